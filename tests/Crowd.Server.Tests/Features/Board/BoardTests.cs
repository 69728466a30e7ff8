using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Board;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Board;

public sealed class BoardTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task TheBoardShowsOnlyPublishedJobsAndFiltersByLanguage()
    {
        var requester = await app.RequesterAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var mandarin = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "Mandarin " + tag, language: "zh-CN"));
        var english = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "English " + tag, language: "en-GB"));
        var draft = await requester.Client.CreateJobAsync(JobsTestData.ValidJob(title: "Draft " + tag, language: "zh-CN"));
        var closed = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "Closed " + tag, language: "zh-CN"));
        (await requester.Client.PostAsync($"/api/jobs/{closed.Id}/close", null)).EnsureSuccessStatusCode();
        var anonymous = app.CreateClient();

        var all = (await anonymous.GetFromJsonAsync<BoardPage>("/api/board"))!.Jobs.Where(j => j.Title.EndsWith(tag, StringComparison.Ordinal)).ToList();
        var chinese = (await anonymous.GetFromJsonAsync<BoardPage>("/api/board?language=zh"))!.Jobs.Select(j => j.Id).ToList();
        var exact = (await anonymous.GetFromJsonAsync<BoardPage>("/api/board?language=en-gb"))!.Jobs.Select(j => j.Id).ToList();

        all.Select(j => j.Id).ShouldBe([english.Id, mandarin.Id]); // newest first
        chinese.ShouldContain(mandarin.Id);
        chinese.ShouldNotContain(english.Id);
        chinese.ShouldNotContain(draft.Id);
        chinese.ShouldNotContain(closed.Id);
        exact.ShouldContain(english.Id);
        exact.ShouldNotContain(mandarin.Id);
        var shown = all.Single(j => j.Id == mandarin.Id);
        shown.HourlyRateFormatted.ShouldBe("30.00 CNY");
        shown.HourlyRate.Minor.ShouldBe(3000);
        shown.EstimatedSecondsPerClip.ShouldBe(20);
        shown.BuyerName.ShouldBe("Acme Speech AI Ltd");
        shown.Purposes.ShouldBe([BoardQuery.SpeechRecognition]);
        shown.RetentionDays.ShouldBe(365);
    }

    [Fact]
    public async Task AJobIsOnTheBoardOnlyWhileItsEscrowCoversItsBudgetAndItIsNotPaused()
    {
        var requester = await app.RequesterAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var live = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "Live " + tag));
        var underfunded = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "Underfunded " + tag));
        var paused = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "Paused " + tag));
        // Doubling the target hours doubles the budget; the escrow still holds only the first half.
        (await requester.Client.PutAsJsonAsync($"/api/jobs/{underfunded.Id}", new JobRequest(TargetHours: 80))).EnsureSuccessStatusCode();
        await app.WithDbAsync(db => db.Set<JobBudget>().Where(b => b.JobId == paused.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.PausedAt, DateTimeOffset.UtcNow).SetProperty(b => b.PauseReason, JobFunding.PausedMessage)));
        var anonymous = app.CreateClient();

        var shown = (await anonymous.GetFromJsonAsync<BoardPage>("/api/board"))!.Jobs.Where(j => j.Title.EndsWith(tag, StringComparison.Ordinal)).Select(j => j.Id).ToList();
        var page = await anonymous.GetStringAsync("/");

        shown.ShouldBe([live.Id]);
        page.ShouldContain("Live " + tag);
        page.ShouldNotContain("Underfunded " + tag);
        page.ShouldNotContain("Paused " + tag);

        await app.WithDbAsync(db => JobsTestData.FundAsync(db, underfunded.Id));
        var funded = (await anonymous.GetFromJsonAsync<BoardPage>("/api/board"))!.Jobs.Where(j => j.Title.EndsWith(tag, StringComparison.Ordinal)).Select(j => j.Id).ToList();
        funded.ShouldBe([underfunded.Id, live.Id], ignoreOrder: true);
    }

    [Fact]
    public async Task ABadLanguageFilterIsRefusedWithProblemDetails()
    {
        var response = await app.CreateClient().GetAsync("/api/board?language=zh%25");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys.ShouldBe(["language"]);
    }

    [Fact]
    public async Task TheHomePageListsAPublishedJobInPlainWords()
    {
        var requester = await app.RequesterAsync();
        var title = "Home page job " + Guid.NewGuid().ToString("N")[..8];
        await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: title));

        var html = WebUtility.HtmlDecode(await app.CreateClient().GetStringAsync("/"));

        html.ShouldContain(title);
        html.ShouldContain("30.00 CNY per hour · about 20 s per clip · buyer: Acme Speech AI Ltd · used for: speech recognition · kept for 365 days");
        html.ShouldContain("data-testid=\"board-job\"");
    }

    [Fact]
    public async Task TheHomePageSpeaksChineseWhenAsked()
    {
        var requester = await app.RequesterAsync();
        await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "中文任务"));
        var client = app.CreateClient();
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN,zh;q=0.9");

        var html = WebUtility.HtmlDecode(await client.GetStringAsync("/"));

        html.ShouldContain("录音任务");
        html.ShouldContain("每小时 30.00 CNY · 每段约 20 秒 · 买方：Acme Speech AI Ltd · 用途：语音识别 · 保存 365 天");
    }

    [Fact]
    public async Task AFilterWithNoMatchesShowsTheEmptyState()
    {
        var html = WebUtility.HtmlDecode(await app.CreateClient().GetStringAsync("/?language=xx"));

        html.ShouldContain("data-testid=\"board-empty\"");
        html.ShouldContain("No open jobs in xx right now.");
    }

    [Fact]
    public async Task TheBoardLeadsToAPageThatSaysEverythingAboutTheJobBeforeConsent()
    {
        var requester = await app.RequesterAsync();
        var title = "Job page " + Guid.NewGuid().ToString("N")[..8];
        var job = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: title));
        var anonymous = app.CreateClient();
        var board = WebUtility.HtmlDecode(await anonymous.GetStringAsync("/"));
        var link = $"/Board/{job.Id}";
        board.ShouldContain($"href=\"{link}\"");

        var response = await anonymous.GetAsync(link);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        html.ShouldContain(title);
        html.ShouldContain("Acme Speech AI Ltd");
        html.ShouldContain("Speech recognition: training and testing systems that turn speech into text.");
        html.ShouldContain("30.00 CNY per hour of active work");
        html.ShouldContain("The lowest rate allowed in");
        html.ShouldContain("About 20 seconds per clip, listening back included.");
        html.ShouldContain("今天天气很好。");
        html.ShouldContain("2 prompts in all.");
        html.ShouldContain("365 days, or 3 years after your last activity on Crowd");
        html.ShouldContain("Declining costs nothing.");
        html.ShouldContain("Sign in as a contributor to consent and record.");
        var details = html[html.IndexOf("data-testid=\"job-details\"", StringComparison.Ordinal)..];
        details.ShouldContain(job.Id.ToString());
        var shownAbove = Regex.Replace(html[..html.IndexOf("data-testid=\"job-details\"", StringComparison.Ordinal)], "<[^>]*>", " ");
        shownAbove.ShouldNotContain(job.Id.ToString(), Case.Sensitive, "the job id is shown only under Details (links may carry it)");

        var contributor = await app.CreateUserAsync(Roles.Contributor);
        var signedIn = WebUtility.HtmlDecode(await (await app.SignedInClientAsync(contributor.Email!)).GetStringAsync(link));
        signedIn.ShouldContain($"href=\"/Recording/{job.Id}/Consent\"");
    }

    [Fact]
    public async Task TheJobPageSpeaksChineseAndADraftHasNone()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "任务页面"));
        var draft = await requester.Client.CreateJobAsync(JobsTestData.ValidJob(title: "Draft job page"));
        var client = app.CreateClient();
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN,zh;q=0.9");

        var html = WebUtility.HtmlDecode(await client.GetStringAsync($"/Board/{job.Id}"));

        html.ShouldContain("每小时有效工作 30.00 CNY");
        html.ShouldContain("每段约 20 秒，含回听。");
        html.ShouldContain("拒绝不会有任何代价。");
        (await client.GetAsync($"/Board/{draft.Id}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task APausedJobsPageSaysItTakesNoRecordingsAndOffersNoConsent()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "Paused job page"));
        await app.WithDbAsync(db => db.Set<JobBudget>().Where(b => b.JobId == job.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.PausedAt, DateTimeOffset.UtcNow).SetProperty(b => b.PauseReason, JobFunding.PausedMessage)));
        var contributor = await app.CreateUserAsync(Roles.Contributor);

        var html = WebUtility.HtmlDecode(await (await app.SignedInClientAsync(contributor.Email!)).GetStringAsync($"/Board/{job.Id}"));

        html.ShouldContain("data-testid=\"job-not-live\"");
        html.ShouldNotContain("data-testid=\"job-consent\"");
    }
}
