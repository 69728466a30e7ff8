using System.Net;
using System.Text.RegularExpressions;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Jobs;

public sealed partial class JobPagesTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task TheEditorRendersWithDefaultsAndTheFloorHint()
    {
        var requester = await app.RequesterAsync();

        var html = await requester.Client.GetStringAsync("/Jobs/Edit");

        html.ShouldContain("data-testid=\"job-form\"");
        html.ShouldContain("value=\"365\"");
        html.ShouldContain("The floor for Beijing, mainland China (CN-BJ) is 27.70 CNY per hour");
    }

    [Fact]
    public async Task PostingTheEditorCreatesADraftWithItsPrompts()
    {
        var requester = await app.RequesterAsync();
        var title = "Page draft " + Guid.NewGuid().ToString("N")[..8];

        var response = await PostEditorAsync(requester.Client, "Save", Fields(title, "30.00"));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var job = await app.WithDbAsync(db => db.Jobs.SingleAsync(j => j.Terms.Title == title));
        (job.Status, job.Terms.HourlyRateMinor, job.Terms.Currency, job.Terms.ClipMaxMs, job.Terms.MaxClippingRatio, job.PromptCount).ShouldBe((JobStatus.Draft, 3000L, "CNY", 15_000, 0.005, 2));
        job.OrganisationId.ShouldBe(requester.OrganisationId);
        response.Headers.Location!.ToString().ShouldContain(job.Id.ToString());
        var list = await requester.Client.GetStringAsync("/Jobs");
        list.ShouldContain(title);
    }

    [Fact]
    public async Task PublishingBelowTheFloorFromTheEditorShowsTheFloorInline()
    {
        var requester = await app.RequesterAsync();
        var title = "Cheap " + Guid.NewGuid().ToString("N")[..8];

        var response = await PostEditorAsync(requester.Client, "Publish", Fields(title, "20.00"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        html.ShouldContain("The hourly rate 20.00 CNY is below the floor for Beijing, mainland China (CN-BJ): 27.70 CNY. Raise the rate to at least 27.70 CNY.");
        (await app.WithDbAsync(db => db.Jobs.SingleAsync(j => j.Terms.Title == title))).Status.ShouldBe(JobStatus.Draft);
    }

    [Fact]
    public async Task TheEditorShowsTheBudgetInWordsAndPublishingUnfundedNamesTheAmountStillNeeded()
    {
        var requester = await app.RequesterAsync();
        var title = "Unfunded " + Guid.NewGuid().ToString("N")[..8];

        var response = await PostEditorAsync(requester.Client, "Publish", Fields(title, "30.00"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        html.ShouldContain("Fund the job's escrow before publishing: 1,320.00 CNY of 1,320.00 CNY is still needed.");
        html.ShouldContain("40 hours at 30.00 CNY an hour is 1,200.00 CNY of pay, plus the platform fee of 10 % (120.00 CNY): a budget of 1,320.00 CNY.");
        html.ShouldContain("The escrow holds 0.00 CNY of the 1,320.00 CNY budget: 1,320.00 CNY is still needed before the job can go live.");
        var job = await app.WithDbAsync(db => db.Jobs.SingleAsync(j => j.Terms.Title == title));
        job.Status.ShouldBe(JobStatus.Draft);

        await app.WithDbAsync(db => JobsTestData.FundAsync(db, job.Id));
        var funded = WebUtility.HtmlDecode(await requester.Client.GetStringAsync($"/Jobs/Edit?id={job.Id}"));
        funded.ShouldContain("The escrow holds 1,320.00 CNY, which covers the budget.");
    }

    [Fact]
    public async Task WithoutAStripeKeyAnUnfundedJobOffersTheBankTransferWithItsReferenceAndNoCard()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();

        var html = WebUtility.HtmlDecode(await requester.Client.GetStringAsync($"/Jobs/Edit?id={job.Id}"));

        html.ShouldContain("Pay by bank transfer");
        html.ShouldMatch("data-testid=\"payment-reference\">CW-[0-9A-Z]{4}-[0-9A-Z]{4}<");
        html.ShouldContain("Ask the platform for its bank details, and quote the payment reference.");
        html.ShouldNotContain("data-testid=\"pay-by-card\"");
    }

    [Fact]
    public async Task BadInputInTheEditorIsShownInChineseAndNothingIsWritten()
    {
        var requester = await app.RequesterAsync();
        requester.Client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN");
        var fields = Fields("", "abc");
        fields["Form.ClipMinSeconds"] = "20";

        var response = await PostEditorAsync(requester.Client, "Save", fields);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        html.ShouldContain("新建任务");
        html.ShouldContain("请按 30.00 这样的格式填写时薪。");
        (await app.WithDbAsync(db => db.Jobs.CountAsync(j => j.OrganisationId == requester.OrganisationId))).ShouldBe(0);
    }

    [Fact]
    public async Task AnotherOrganisationsJobIsNotFoundInTheEditor()
    {
        var mine = await app.RequesterAsync();
        var theirs = await app.RequesterAsync();
        var job = await mine.Client.CreateJobAsync();

        (await theirs.Client.GetAsync($"/Jobs/Edit?id={job.Id}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await theirs.Client.GetStringAsync("/Jobs")).ShouldNotContain(job.Id.ToString());
    }

    private static Dictionary<string, string> Fields(string title, string rate) => new()
    {
        ["Form.Title"] = title,
        ["Form.Description"] = "Read each sentence.",
        ["Form.Language"] = "zh-CN",
        ["Form.TakesPerPrompt"] = "1",
        ["Form.ClipMinSeconds"] = "1",
        ["Form.ClipMaxSeconds"] = "15",
        ["Form.MinSnrDb"] = "15",
        ["Form.MaxClippingPercent"] = "0.5",
        ["Form.MinSpeechPercent"] = "30",
        ["Form.HourlyRate"] = rate,
        ["Form.TargetHours"] = "40",
        ["Form.Currency"] = "CNY",
        ["Form.Region"] = "CN-BJ",
        ["Form.EstimatedSecondsPerClip"] = "20",
        ["Form.BuyerName"] = "Acme Speech AI Ltd",
        ["Form.PurposeSpeechRecognition"] = "true",
        ["Form.RetentionDays"] = "365",
        ["Form.Prompts"] = "第一句。\n第二句。",
    };

    private static async Task<HttpResponseMessage> PostEditorAsync(HttpClient client, string handler, Dictionary<string, string> fields)
    {
        var page = await client.GetStringAsync("/Jobs/Edit");
        var token = AntiforgeryToken().Match(page).Groups[1].Value;
        token.ShouldNotBeEmpty();
        using var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields.Append(new("__RequestVerificationToken", token)))
        {
            form.Add(new StringContent(value), name);
        }
        return await client.PostAsync($"/Jobs/Edit?handler={handler}", form);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
