using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Tests.Browser;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Crowd.Server.Tests.Features.Reviews;

/// <summary>The server on a real port with its clips in a folder of its own, for Chromium.</summary>
public sealed class ReviewsBrowserApp : BrowserApp
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crowd:DataDirectory", Path.Combine(Path.GetTempPath(), "crowd-reviews-" + Guid.NewGuid().ToString("N")[..12]));
    }
}

public sealed class ReviewsBrowserTests(ReviewsBrowserApp app, ITestOutputHelper output) : IClassFixture<ReviewsBrowserApp>
{
    [Fact]
    public async Task ARequesterRejectsWithAReasonTheContributorAppealsAndSeesTheAdminsFinalDecision()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id, durationMs: 6_000, sessionActiveMs: 60_000);
        var admin = await app.CreateUserAsync(Roles.Admin);

        // The requester hears the clip, sees its waveform, and rejects it: first without a reason, then with one.
        var requester = await SignedInPageAsync(job.Requester.Email!);
        await requester.GotoAsync($"/Reviews/{job.Job.Id}");
        var item = requester.Locator($"[data-clip-id='{clip}']");
        await Expect(item.GetByTestId("waveform")).ToBeVisibleAsync();
        var box = await item.GetByTestId("waveform").BoundingBoxAsync();
        box!.Width.ShouldBeGreaterThan(100);
        var duration = await item.GetByTestId("clip-audio").EvaluateAsync<double>(
            "a => new Promise(ok => { a.preload = 'auto'; if (a.readyState >= 1) ok(a.duration); else { a.onloadedmetadata = () => ok(a.duration); a.load(); } })");
        duration.ShouldBe(6.0, 0.05);
        await Expect(item.GetByTestId("clip-metrics")).ToContainTextAsync("31.2 dB");
        // The reject form opens only on demand; an incomplete one is refused with what is missing, and the clip waits.
        await Expect(item.GetByTestId("reject-form")).Not.ToBeVisibleAsync();
        await item.GetByTestId("reject-open").ClickAsync();
        await item.GetByTestId("reject").ClickAsync();
        await Expect(item.GetByTestId("row-state")).ToContainTextAsync("Choose the reason");
        await Expect(item.GetByTestId("row-state")).ToContainTextAsync("Explain the rejection");
        (await StatusAsync(clip)).ShouldBe(ClipReview.Waiting);
        await Shot(requester, "reviews-1-queue-errors");
        await item.GetByTestId("reject-reason").SelectOptionAsync("not-live-voice");
        await item.GetByTestId("reject-note").FillAsync("The voice sounds synthetic: flat pitch, no breathing.");
        await item.GetByTestId("reject").ClickAsync();
        await Expect(item.GetByTestId("row-state")).ToHaveTextAsync("Rejected");
        await Expect(requester.GetByTestId("queue-done")).ToBeVisibleAsync();
        (await StatusAsync(clip)).ShouldBe(ClipReview.Rejected);

        // The contributor sees the reason and appeals.
        var contributor = await SignedInPageAsync(speaker.Email!);
        await contributor.GotoAsync("/Reviews/Mine");
        var rejection = contributor.GetByTestId("rejection");
        await Expect(rejection.GetByTestId("rejection-reason")).ToHaveTextAsync("Not a live human voice");
        await Expect(rejection.GetByTestId("rejection-note")).ToHaveTextAsync("The voice sounds synthetic: flat pitch, no breathing.");
        await rejection.GetByTestId("appeal-note").FillAsync("It is my own voice, recorded on my phone.");
        await rejection.GetByTestId("appeal").ClickAsync();
        await Expect(contributor.GetByTestId("appeal-sent")).ToBeVisibleAsync();
        await Expect(contributor.GetByTestId("appeal-state")).ToContainTextAsync("Waiting for an admin");
        await Expect(contributor.GetByTestId("appeal-form")).ToHaveCountAsync(0);
        await Shot(contributor, "reviews-2-appealed");

        // The admin sees both sides and reverses the rejection.
        var adminPage = await SignedInPageAsync(admin.Email!);
        await adminPage.GotoAsync("/Admin/Appeals");
        var appeal = adminPage.Locator($"[data-clip-id='{clip}']");
        await Expect(appeal.GetByTestId("appeal-reason")).ToHaveTextAsync("Not a live human voice");
        await Expect(appeal.GetByTestId("appeal-contributor-note")).ToHaveTextAsync("It is my own voice, recorded on my phone.");
        await Expect(appeal.GetByTestId("appeal-audio")).ToHaveCountAsync(1);
        await Shot(adminPage, "reviews-3-admin");
        await appeal.GetByTestId("decision-note").FillAsync("Breathing and room noise are audible; this is a live voice.");
        await appeal.GetByTestId("reverse").ClickAsync();
        await Expect(adminPage.GetByTestId("decision-done")).ToContainTextAsync("reversed");
        await Expect(adminPage.Locator($"[data-clip-id='{clip}']")).ToHaveCountAsync(0);

        // The contributor sees the final decision; the clip is accepted and the pay was never touched.
        await contributor.ReloadAsync();
        await Expect(contributor.GetByTestId("appeal-state")).ToContainTextAsync("Appeal granted");
        await Expect(contributor.GetByTestId("appeal-state")).ToContainTextAsync("Breathing and room noise are audible");
        await Shot(contributor, "reviews-4-decided");
        (await StatusAsync(clip)).ShouldBe(ClipReview.Accepted);
        (await app.WithDbAsync(async db => (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(speaker.Id, "CNY"))).Minor)).ShouldBe(600);
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task AnUpheldRejectionIsShownInChineseWithThePayKept()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id);
        var admin = await app.CreateUserAsync(Roles.Admin);
        var requester = await SignedInPageAsync(job.Requester.Email!);
        await requester.GotoAsync($"/Reviews/{job.Job.Id}");
        var item = requester.Locator($"[data-clip-id='{clip}']");
        await item.GetByTestId("reject-open").ClickAsync();
        await item.GetByTestId("reject-reason").SelectOptionAsync("silence");
        await item.GetByTestId("reject-note").FillAsync("Only silence after the first word.");
        await item.GetByTestId("reject").ClickAsync();
        await Expect(item.GetByTestId("row-state")).ToHaveTextAsync("Rejected");
        var contributor = await SignedInPageAsync(speaker.Email!, "zh-CN");
        await contributor.GotoAsync("/Reviews/Mine");
        await Expect(contributor.GetByTestId("rejection-reason")).ToHaveTextAsync("静音或无语音");
        await contributor.GetByTestId("appeal-note").FillAsync("我读完了整个句子。");
        await contributor.GetByTestId("appeal").ClickAsync();
        var adminPage = await SignedInPageAsync(admin.Email!);
        await adminPage.GotoAsync("/Admin/Appeals");
        var appeal = adminPage.Locator($"[data-clip-id='{clip}']");
        await appeal.GetByTestId("decision-note").FillAsync("The recording is silent after 0.8 s.");
        await appeal.GetByTestId("uphold").ClickAsync();

        await contributor.ReloadAsync();

        await Expect(contributor.GetByTestId("appeal-state")).ToContainTextAsync("申诉未获支持");
        await Expect(contributor.GetByTestId("appeal-state")).ToContainTextAsync("您的时间报酬保持不变");
        await Shot(contributor, "reviews-5-upheld-zh");
        app.Csp.ShouldBeClean();
    }

    private Task<IPage> SignedInPageAsync(string email, string locale = "en-US") => app.SignedInPageAsync(email, locale);

    private Task<ClipReview> StatusAsync(Guid clip) => app.WithDbAsync(db => db.Clips.Where(c => c.Id == clip).Select(c => c.ReviewStatus).SingleAsync());

    private async Task Shot(IPage page, string name) => output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, name));
}
