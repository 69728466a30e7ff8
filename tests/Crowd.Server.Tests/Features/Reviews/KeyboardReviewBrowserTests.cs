using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Reviews;
using Crowd.Server.Tests.Browser;
using Crowd.Server.Tests.Features.Recording;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Crowd.Server.Tests.Features.Reviews;

public sealed class KeyboardReviewBrowserTests(ReviewsBrowserApp app, ITestOutputHelper output) : IClassFixture<ReviewsBrowserApp>
{
    [Fact]
    public async Task AReviewerDecidesAHundredClipsWithoutLeavingTheKeyboard()
    {
        var job = await ReviewTestData.JobAsync(app, prompts: 100);
        var speakers = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            speakers.Add((await RecordingTestData.ContributorAsync(app, job.Job)).Id);
        }
        var clips = new List<Guid>();
        var recorded = DateTimeOffset.UtcNow.AddHours(-2);
        for (var i = 0; i < 100; i++)
        {
            clips.Add(await ReviewTestData.ClipAsync(app, job, speakers[i % 4], prompt: i, durationMs: 1_000, sessionActiveMs: 10_000,
                createdAt: recorded.AddSeconds(i)));
        }
        var page = await app.SignedInPageAsync(job.Requester.Email!);
        await page.SetViewportSizeAsync(1280, 900);
        await page.GotoAsync($"/Reviews/{job.Job.Id}");
        await Expect(page.GetByTestId("queue-clip")).ToHaveCountAsync(100);
        await Expect(page.GetByTestId("reject-form").First).Not.ToBeVisibleAsync();

        // The first 50 accepted with A; the next 20 rejected by a number key (each reason four times) and Enter; the
        // last 30 played with P and passed over with J, then accepted together with Shift+A.
        for (var i = 0; i < 100; i++)
        {
            var row = page.Locator($"[data-clip-id='{clips[i]}']");
            await Expect(row).ToHaveAttributeAsync("aria-current", "true");
            if (i < 50)
            {
                await page.Keyboard.PressAsync("a");
                await Expect(row).ToHaveAttributeAsync("data-state", "accepted");
            }
            else if (i < 70)
            {
                await page.Keyboard.PressAsync(((i % 5) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
                await Expect(row.GetByTestId("reject-note")).ToBeFocusedAsync();
                if (i == 50)
                {
                    await ShotAsync(page, "review-keyboard-reject-1280");
                }
                await page.Keyboard.PressAsync("Enter");
                await Expect(row).ToHaveAttributeAsync("data-state", "rejected");
            }
            else
            {
                await page.Keyboard.PressAsync("p");
                await Expect(row).ToHaveAttributeAsync("data-played", "true");
                await page.Keyboard.PressAsync("j");
            }
        }
        await ShotAsync(page, "review-keyboard-before-bulk-1280");
        await page.Keyboard.PressAsync("Shift+A");

        await Expect(page.GetByTestId("accepted-played")).ToHaveTextAsync("30 clips you played that passed the analyzer were accepted.");
        await Expect(page.GetByTestId("queue-empty")).ToBeVisibleAsync();
        var decided = await app.WithDbAsync(db => db.Clips.AsNoTracking().Where(c => c.JobId == job.Job.Id)
            .Select(c => new { c.Id, c.ReviewStatus }).ToDictionaryAsync(c => c.Id, c => c.ReviewStatus));
        clips.Take(50).Concat(clips.Skip(70)).ShouldAllBe(c => decided[c] == ClipReview.Accepted);
        clips.Skip(50).Take(20).ShouldAllBe(c => decided[c] == ClipReview.Rejected);
        var rejections = await app.WithDbAsync(db => db.Set<ClipRejection>().AsNoTracking().Where(r => clips.Contains(r.ClipId)).ToListAsync());
        rejections.GroupBy(r => r.Reason).ShouldAllBe(g => g.Count() == 4);
        rejections.ShouldAllBe(r => r.Note == r.Reason.DefaultNote());
        rejections.Where(r => r.Reason.IsFraud()).ShouldAllBe(r => r.AppealBy == r.RejectedAt + ReviewRules.FraudAppealWindow);

        await page.SetViewportSizeAsync(375, 800);
        (await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth")).ShouldBeTrue("the queue fits a phone's width");
        await ShotAsync(page, "review-keyboard-done-375");
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task AcceptingWhatIPlayedLeavesClipsIDidNotPlayAndClipsTheAnalyzerFailed()
    {
        var job = await ReviewTestData.JobAsync(app, prompts: 3);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var played = await ReviewTestData.ClipAsync(app, job, speaker.Id, prompt: 0, durationMs: 1_000);
        var failed = await ReviewTestData.ClipAsync(app, job, speaker.Id, prompt: 1, durationMs: 1_000);
        var unheard = await ReviewTestData.ClipAsync(app, job, speaker.Id, prompt: 2, durationMs: 1_000);
        await app.WithDbAsync(db => db.Clips.Where(c => c.Id == failed)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Verdict, """{"passed":false,"codes":["too_noisy"]}""")));
        var page = await app.SignedInPageAsync(job.Requester.Email!);
        await page.GotoAsync($"/Reviews/{job.Job.Id}");

        foreach (var clip in new[] { played, failed })
        {
            var row = page.Locator($"[data-clip-id='{clip}']");
            await Expect(row).ToHaveAttributeAsync("aria-current", "true");
            await page.Keyboard.PressAsync("p");
            await Expect(row).ToHaveAttributeAsync("data-played", "true");
            await page.Keyboard.PressAsync("j");
        }
        await page.Keyboard.PressAsync("Shift+A");

        await Expect(page.GetByTestId("accepted-played")).ToHaveTextAsync("1 clip you played that passed the analyzer was accepted.");
        var status = await app.WithDbAsync(db => db.Clips.AsNoTracking().Where(c => c.JobId == job.Job.Id).ToDictionaryAsync(c => c.Id, c => c.ReviewStatus));
        status[played].ShouldBe(ClipReview.Accepted);
        status[failed].ShouldBe(ClipReview.Waiting);
        status[unheard].ShouldBe(ClipReview.Waiting);
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task TheQueueFiltersByTheAnalyzersFiguresAndRefusesAFilterOutOfRange()
    {
        var job = await ReviewTestData.JobAsync(app, prompts: 2);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var shortClip = await ReviewTestData.ClipAsync(app, job, speaker.Id, prompt: 0, durationMs: 1_000);
        var longClip = await ReviewTestData.ClipAsync(app, job, speaker.Id, prompt: 1, durationMs: 8_000);
        var page = await app.SignedInPageAsync(job.Requester.Email!);
        await page.GotoAsync($"/Reviews/{job.Job.Id}");

        await page.GetByTestId("filter-min-seconds").FillAsync("5");
        await page.GetByTestId("filter-apply").ClickAsync();
        await Expect(page.GetByTestId("queue-clip")).ToHaveCountAsync(1);
        await Expect(page.Locator($"[data-clip-id='{longClip}']")).ToHaveCountAsync(1);
        await Expect(page.Locator($"[data-clip-id='{shortClip}']")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("queue-summary")).ToContainTextAsync("2 clips are waiting");

        await page.GotoAsync($"/Reviews/{job.Job.Id}?minSpeech=150");
        await Expect(page.GetByTestId("review-errors")).ToContainTextAsync("The lowest share of speech must be between 0 and 100 %.");
        await Expect(page.GetByTestId("queue-clip")).ToHaveCountAsync(2);
        var api = await page.APIRequest.GetAsync($"/api/reviews/jobs/{job.Job.Id}/queue?minSnr=500");
        api.Status.ShouldBe(400);
        (await api.TextAsync()).ShouldContain("minSnr");
        app.Csp.ShouldBeClean();
    }

    private async Task ShotAsync(IPage page, string name) => output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, name));
}
