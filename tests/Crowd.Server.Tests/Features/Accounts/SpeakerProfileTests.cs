using System.Net;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Accounts.Speech;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Accounts;

/// <summary>A contributor states their language and accent on "My speech"; the job dashboard groups speakers by it.</summary>
public sealed class SpeakerProfileTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task AContributorStatesChangesAndRemovesTheirLanguageAndAccent()
    {
        var me = await app.CreateUserAsync(Roles.Contributor);
        var client = await app.SignedInClientAsync(me.Email!);

        (await client.GetPageAsync("/Account/Speech")).ShouldContain("data-testid=\"speaker-profile\"");
        using var saved = await client.SubmitAsync("/Account/Speech", ("Language", " zh-CN "), ("Accent", "  Sichuan   dialect "));
        saved.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var profile = await ProfileAsync(me.Id);
        (profile!.Language, profile.Accent).ShouldBe(("zh-CN", "Sichuan dialect"));
        var page = WebUtility.HtmlDecode(await client.GetPageAsync("/Account/Speech?done=saved"));
        page.ShouldContain("value=\"Sichuan dialect\"");
        page.ShouldContain("Saved. Jobs you record for from now on count you in this group.");

        using var changed = await client.SubmitAsync("/Account/Speech", ("Language", "yue"), ("Accent", ""));
        (await ProfileAsync(me.Id))!.Language.ShouldBe("yue");
        using var removed = await client.SubmitAsync("/Account/Speech?handler=Remove");
        removed.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await ProfileAsync(me.Id)).ShouldBeNull();
    }

    [Fact]
    public async Task ALanguageThatIsNotATagOrAnAccentWithAControlCharacterIsRefusedByFieldAndNothingIsSaved()
    {
        var me = await app.CreateUserAsync(Roles.Contributor);
        var client = await app.SignedInClientAsync(me.Email!);

        using var badLanguage = await client.SubmitAsync("/Account/Speech", ("Language", "Mandarin Chinese"), ("Accent", "Beijing"));
        using var badAccent = await client.SubmitAsync("/Account/Speech", ("Language", "zh-CN"), ("Accent", "Bei\u0007jing"));

        badLanguage.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var html = WebUtility.HtmlDecode(await badLanguage.Content.ReadAsStringAsync());
        html.ShouldContain("data-testid=\"speech-language-error\"");
        html.ShouldContain("Use a language tag like zh-CN, yue or en");
        html.ShouldContain("value=\"Mandarin Chinese\"", customMessage: "what was typed is kept");
        badAccent.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await badAccent.Content.ReadAsStringAsync()).ShouldContain("data-testid=\"speech-accent-error\"");
        (await ProfileAsync(me.Id)).ShouldBeNull();
    }

    [Fact]
    public async Task OnlyContributorsHaveTheirSpeechToDescribe()
    {
        var requester = await app.RequesterAsync();

        using var response = await requester.Client.GetAsync("/Account/Speech");

        response.StatusCode.ShouldNotBe(HttpStatusCode.OK);
    }

    private Task<SpeakerProfile?> ProfileAsync(Guid id) =>
        app.WithDbAsync(db => db.Set<SpeakerProfile>().AsNoTracking().SingleOrDefaultAsync(p => p.ContributorId == id));
}
