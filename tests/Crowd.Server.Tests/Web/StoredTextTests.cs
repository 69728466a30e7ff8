using System.Net;
using System.Net.Http.Json;
using System.Text;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Features.Reviews;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Web;

/// <summary>Free text the platform stores and shows to others, sent with what the text rule refuses, through the real API.</summary>
public sealed class StoredTextTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    public static TheoryData<string, string> SignUpTexts => new()
    {
        { "displayName", "Li\u0000Wei" },
        { "displayName", "Li\u0007Wei" },
        { "displayName", "\u202Eiew iL" },
        { "displayName", "\u200B\u200C\u2060" },
        { "organisationName", "Acme\u0000 Speech" },
        { "organisationName", "Acme\u2066 Speech\u2069" },
        { "organisationName", "\u3164" },
        { "email", "li\u0000wei@example.test" },
    };

    [Theory]
    [MemberData(nameof(SignUpTexts))]
    public async Task ASignUpWithARefusedCharacterIsA400NamingTheFieldAndCreatesNothing(string field, string text)
    {
        var email = TestAccounts.NewEmail("text");
        var request = new SignUpRequest(field == "email" ? text : email, TestAccounts.Password, field == "displayName" ? text : "Li Wei",
            new DateOnly(1995, 3, 8), Roles.Requester, field == "organisationName" ? text : "Acme Speech AI");

        var response = await app.AnonymousClient().PostAsJsonAsync("/api/accounts/signup", request);

        var problem = await response.ShouldBeValidationProblemAsync();
        problem.Errors.Keys.ShouldBe([field]);
        (await app.WithDbAsync(db => db.Users.AnyAsync(u => u.Email == email))).ShouldBeFalse();
    }

    public static TheoryData<string, string> JobTexts => new()
    {
        { "title", "Read\u0000 news" },
        { "title", "Read news\u001B[31m" },
        { "title", "\u202Eswen daeR" },
        { "title", "\u200B \u00AD" },
        { "buyerName", "Acme\u0000" },
        { "buyerName", "Acme \u202ELtd" },
        { "buyerName", "\uFEFF\u200D" },
        { "buyerName", "Acme\nLtd" },
        { "description", "Read clearly.\u0000" },
        { "description", "Read \u2067clearly\u2069." },
        { "environmentNotes", "Quiet room\u0008" },
    };

    [Theory]
    [MemberData(nameof(JobTexts))]
    public async Task AJobWithARefusedCharacterIsA400NamingTheFieldAndIsNotSaved(string field, string text)
    {
        var requester = await app.RequesterAsync();
        var job = JobsTestData.ValidJob();
        job = field switch
        {
            "title" => job with { Title = text },
            "buyerName" => job with { BuyerName = text },
            "description" => job with { Description = text },
            _ => job with { EnvironmentNotes = text },
        };

        var response = await requester.Client.PostAsJsonAsync("/api/jobs", job);

        (await response.ShouldBeValidationProblemAsync()).Errors.Keys.ShouldBe([field]);
        (await app.WithDbAsync(db => db.Jobs.AnyAsync(j => j.OrganisationId == requester.OrganisationId))).ShouldBeFalse();
    }

    [Fact]
    public async Task DescriptionsAndNotesKeepTheirLineBreaksTabsAndScripts()
    {
        var requester = await app.RequesterAsync();
        const string description = "第一段：安静的房间。\r\n\tSecond paragraph — read slowly.\nمرحبا 👋🏽";

        var response = await requester.Client.PostAsJsonAsync("/api/jobs", JobsTestData.ValidJob() with { Description = description, Title = "朗读新闻 👩‍💻" });

        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var job = (await response.Content.ReadFromJsonAsync<JobResponse>())!;
        (job.Description, job.Title).ShouldBe((description, "朗读新闻 👩‍💻"));
    }

    public static TheoryData<string, string> PromptFiles => new()
    {
        { "今天天气很好。\n我们明天\u0000去公园。\n", "Line 2 contains a NUL character" },
        { "今天天气很好。\n\u202E。园公去天明们我\n", "Line 2 contains a text-direction control character (U+202E) at position 1" },
        { "今天天气很好。\n\u200B\u200B\n", "Line 2 has no visible characters" },
        { "a-1\t今天天气很好。\nb\u00072\t我们明天去公园。\n", "Line 2 contains an invisible control character (U+0007) at position 2" },
    };

    [Theory]
    [MemberData(nameof(PromptFiles))]
    public async Task APromptFileWithARefusedCharacterNamesTheLineAndStoresNoPrompt(string file, string message)
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();

        var response = await requester.Client.PutAsync($"/api/jobs/{job.Id}/prompts", new StringContent(file, Encoding.UTF8, "text/plain"));

        (await response.ShouldBeValidationProblemAsync()).Errors["prompts"].ShouldHaveSingleItem().ShouldStartWith(message);
        (await app.WithDbAsync(db => db.Prompts.CountAsync(p => p.JobId == job.Id))).ShouldBe(0);
    }

    [Fact]
    public async Task NotesReasonsAndNamesElsewhereFollowTheSameRule()
    {
        var requester = await app.RequesterAsync();
        var admin = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);
        var review = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, review.Job);
        var clip = await ReviewTestData.ClipAsync(app, review, speaker.Id);
        var reviewer = await app.SignedInClientAsync(review.Requester.Email!);

        var key = await requester.Client.PostAsJsonAsync("/api/api-keys", new { name = "nightly\u0000export" });
        var floor = await admin.PutAsJsonAsync("/api/rate-floors/CN-SZ/CNY",
            new RateFloorRequest("Shenzhen\u202E", new Money(2500, "CNY"), new Money(2600, "CNY"), "Test figures."));
        var reject = await reviewer.PostAsJsonAsync($"/api/reviews/clips/{clip}/reject", new { reason = "silence", note = "Nothing\u0000 to hear." });
        var webhook = await requester.Client.PutAsJsonAsync("/api/org/webhook", new { url = "https://hooks.example.com/crowd\u0000" });
        var mailbox = await admin.GetAsync("/Admin/Mailbox?to=a%00b@example.test");

        (await key.ShouldBeValidationProblemAsync()).Errors.Keys.ShouldBe(["name"]);
        (await floor.ShouldBeValidationProblemAsync()).Errors.Keys.ShouldBe(["regionName"]);
        (await reject.ShouldBeValidationProblemAsync()).Errors.Keys.ShouldBe(["note"]);
        (await webhook.ShouldBeValidationProblemAsync()).Errors.Keys.ShouldBe(["url"]);
        mailbox.StatusCode.ShouldBe(HttpStatusCode.OK, "an address no mail can have finds no mail");
    }

    [Fact]
    public async Task SigningInWithANulInTheAddressIsAWrongSignInNotAServerError()
    {
        var response = await app.AnonymousClient().PostAsJsonAsync("/api/accounts/signin", new SignInRequest("a\u0000b@example.test", TestAccounts.Password));

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task TheRefusalIsExplainedInChineseToo()
    {
        var client = app.AnonymousClient();
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN");

        var response = await client.PostAsJsonAsync("/api/accounts/signup", new SignUpRequest(
            TestAccounts.NewEmail("text"), TestAccounts.Password, "Li\u202EWei", new DateOnly(1995, 3, 8), Roles.Contributor));

        (await response.ShouldBeValidationProblemAsync()).Errors["displayName"].ShouldHaveSingleItem().ShouldBe("第 3 个字符是文字方向控制字符（U+202E），它会让显示出来的文字与实际内容不同。请删除后重试。");
    }

}
