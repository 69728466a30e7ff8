using System.Net;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Accounts.Profile;
using Crowd.Server.Features.Accounts.Speech;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Accounts;

/// <summary>A contributor tells where they live, which languages they speak and, if they wish, their gender and age group.</summary>
public sealed class ContributorProfileTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task AContributorSavesTheirRegionLanguagesAndDemographicsAndFindsThemOnTheirProfile()
    {
        var me = await app.CreateUserAsync(Roles.Contributor, dateOfBirth: new DateOnly(1990, 1, 1));
        var client = await app.SignedInClientAsync(me.Email!);

        using var saved = await client.SubmitAsync("/Account/Profile", ("Region", "CN-BJ"), ("Language", " zh-CN "), ("Accent", "Sichuan  dialect"),
            ("Languages", "en，yue, EN; zh-CN"), ("Gender", "prefer-not-to-say"), ("AgeBand", "share"));

        saved.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var profile = (await ProfileAsync(me.Id))!;
        (profile.Region, profile.Gender, profile.AgeBand).ShouldBe(("CN-BJ", "prefer-not-to-say", "share"));
        profile.Languages.ShouldBe(["en", "yue"], "each other language once, without the native one");
        var speech = (await SpeechAsync(me.Id))!;
        (speech.Language, speech.Accent).ShouldBe(("zh-CN", "Sichuan dialect"));
        var page = WebUtility.HtmlDecode(await client.GetPageAsync("/Account/Profile?done=saved"));
        page.ShouldContain("Your profile is saved.");
        page.ShouldContain("<option value=\"CN-BJ\" selected=\"selected\">Beijing, mainland China</option>");
        page.ShouldContain("value=\"en, yue\"");
        page.ShouldContain("value=\"Sichuan dialect\"");
        page.ShouldContain("<option value=\"share\" selected=\"selected\">Count me in my age group: 35 to 44</option>");
        page.ShouldContain("<option value=\"prefer-not-to-say\" selected=\"selected\">Prefer not to say</option>");
        page.ShouldContain("They are never shared in groups smaller than 5 people, never with your name, and never with a supplier.");
    }

    [Fact]
    public async Task ClearingTheNativeLanguageAndAnswersLeavesThemUnstated()
    {
        var me = await app.CreateUserAsync(Roles.Contributor);
        var client = await app.SignedInClientAsync(me.Email!);
        using var first = await client.SubmitAsync("/Account/Profile", ("Region", "GB"), ("Language", "en"), ("Gender", "woman"));

        using var cleared = await client.SubmitAsync("/Account/Profile", ("Region", ""), ("Language", ""), ("Accent", ""), ("Gender", ""));

        cleared.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var profile = (await ProfileAsync(me.Id))!;
        (profile.Region, profile.Gender, profile.AgeBand).ShouldBe((null, null, null));
        (await SpeechAsync(me.Id)).ShouldBeNull("no native language means the speaker did not state one");
    }

    [Fact]
    public async Task BadValuesAreRefusedBesideTheirFieldsInChineseTooWhatWasTypedIsKeptAndNothingIsSaved()
    {
        var me = await app.CreateUserAsync(Roles.Contributor);
        var client = await app.SignedInClientAsync(me.Email!);
        (string, string?)[] form = [("Region", "XX-ZZ"), ("Language", "zh-CN"), ("Accent", "Beijing"), ("Languages", "en, Mandarin Chinese"),
            ("Gender", "robot"), ("AgeBand", "42")];

        using var refused = await client.SubmitAsync("/Account/Profile", form);

        refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var html = WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync());
        html.ShouldContain("data-testid=\"profile-region-error\">Choose your region from the list.");
        html.ShouldContain("data-testid=\"profile-languages-error\">\"Mandarin\" is not a language tag.");
        html.ShouldContain("data-testid=\"profile-gender-error\"");
        html.ShouldContain("data-testid=\"profile-age-band-error\"");
        html.ShouldContain("value=\"en, Mandarin Chinese\"", customMessage: "what was typed is kept");
        html.ShouldContain("value=\"Beijing\"");
        (await ProfileAsync(me.Id)).ShouldBeNull();
        (await SpeechAsync(me.Id)).ShouldBeNull("nothing of a refused form is saved");

        var token = await client.AntiforgeryTokenAsync("/Account/Profile");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/Account/Profile")
        {
            Content = new FormUrlEncodedContent(form.Append(("__RequestVerificationToken", token)).Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2!))),
        };
        request.Headers.AcceptLanguage.ParseAdd("zh-CN");
        using var chinese = await client.SendAsync(request);
        WebUtility.HtmlDecode(await chinese.Content.ReadAsStringAsync()).ShouldContain("请从列表中选择您的地区。");
    }

    [Fact]
    public async Task OnlyContributorsHaveAProfile()
    {
        var requester = await app.RequesterAsync();

        using var response = await requester.Client.GetAsync("/Account/Profile");

        response.StatusCode.ShouldNotBe(HttpStatusCode.OK);
    }

    [Fact]
    public void OtherLanguagesAreKeptOnceEachWithoutTheNativeOneAndTooManyOrAWrongOneAreRefused()
    {
        ProfileRules.Languages("en，yue、EN; zh-cn ja", "zh-CN").ShouldSatisfyAllConditions(
            r => r.Languages.ShouldBe(["en", "yue", "ja"]),
            r => r.Errors.ShouldBeEmpty());
        ProfileRules.Languages(string.Join(", ", Enumerable.Range(0, 11).Select(i => "a" + (char)('a' + i))), null).Errors
            .Single().Message.ShouldStartWith("List at most {0} other languages");
        ProfileRules.Languages("Mandarin Chinese, and more words", null).Errors.Single().Arguments.ShouldBe(["Mandarin"]);
    }

    [Theory]
    [InlineData(13, 0, 13)]
    [InlineData(14, 14, 17)]
    [InlineData(17, 14, 17)]
    [InlineData(18, 18, 24)]
    [InlineData(34, 25, 34)]
    [InlineData(64, 55, 64)]
    [InlineData(65, 65, null)]
    [InlineData(90, 65, null)]
    public void AnAgeFallsInOneBand(int age, int from, int? to) =>
        ProfileRules.BandOf(age).ShouldBe(new AgeBand(from, to));

    private Task<ContributorProfile?> ProfileAsync(Guid id) =>
        app.WithDbAsync(db => db.Set<ContributorProfile>().AsNoTracking().SingleOrDefaultAsync(p => p.ContributorId == id));

    private Task<SpeakerProfile?> SpeechAsync(Guid id) =>
        app.WithDbAsync(db => db.Set<SpeakerProfile>().AsNoTracking().SingleOrDefaultAsync(p => p.ContributorId == id));
}
