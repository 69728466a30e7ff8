using System.Globalization;
using Crowd.Server.Tests.Features.Recording;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Crowd.Server.Tests.Features.Jobs;

public sealed class DashboardBrowserTests(RecorderApp app, ITestOutputHelper output) : IClassFixture<RecorderApp>
{
    private IBrowser? _browser;

    [Fact]
    public async Task ARequesterWatchesCountsHoursAndChartsChangeWhileTwoContributorsRecord()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 4, title: "Read aloud for the dashboard");
        var requester = await app.WithDbAsync(db => db.Jobs.Where(j => j.Id == job.Id)
            .Join(db.Users, j => j.CreatedByUserId, u => u.Id, (j, u) => u.Email!).SingleAsync());
        var dashboard = await PageAsync(requester, microphone: false);
        await dashboard.SetViewportSizeAsync(1280, 900);
        await dashboard.GotoAsync($"/Jobs/{job.Id}");
        await Expect(dashboard.GetByTestId("live-status")).ToHaveAttributeAsync("data-state", "live");
        await Expect(dashboard.GetByTestId("figure-clips")).ToHaveTextAsync("0");
        await Expect(dashboard.GetByTestId("figure-hours")).ToHaveTextAsync("0.00 hours (0:00:00)");
        (await DurationClipsAsync(dashboard)).ShouldBe(0);
        await Expect(dashboard.GetByTestId("review-link")).ToHaveTextAsync("Review clips (0 waiting)");
        await ShotAsync(dashboard, "dashboard-before");

        var first = await RecordAndSubmitAsync(job, "first");
        await Expect(dashboard.GetByTestId("figure-clips")).ToHaveTextAsync("1", new() { Timeout = 30_000 });
        var second = await RecordAndSubmitAsync(job, "second");
        await Expect(dashboard.GetByTestId("figure-clips")).ToHaveTextAsync("2", new() { Timeout = 30_000 });
        await Expect(dashboard.GetByTestId("figure-judged")).ToHaveTextAsync("2");
        await Expect(dashboard.GetByTestId("figure-waiting")).ToHaveTextAsync("2");
        await Expect(dashboard.GetByTestId("review-link")).ToHaveTextAsync("Review clips (2 waiting)");
        // Time worked reaches the ledger at each session's checkpoint, and the dashboard with it.
        await Expect(dashboard.GetByTestId("figure-hours")).Not.ToHaveTextAsync("0.00 hours (0:00:00)", new() { Timeout = 30_000 });
        await Expect(dashboard.GetByTestId("figure-effective")).Not.ToHaveTextAsync("No time worked yet", new() { Timeout = 30_000 });
        await dashboard.WaitForFunctionAsync("""
            () => [...document.querySelectorAll('[data-testid="chart-table-duration"] tbody tr')]
                .reduce((sum, row) => sum + Number(row.dataset.value || 0), 0) === 2
            """);
        (await DurationClipsAsync(dashboard)).ShouldBe(2);
        // The chart itself was redrawn from the new figures, not only the table beside it.
        (await dashboard.EvaluateAsync<double>("""
            () => Chart.getChart(document.querySelector('[data-chart="duration"] canvas')).data.datasets[0].data.reduce((a, b) => a + (b || 0), 0)
            """)).ShouldBe(2);
        dashboard.Url.ShouldEndWith($"/Jobs/{job.Id}", Case.Insensitive, "the figures changed without a reload");
        output.WriteLine($"Clips recorded by {first} and {second}");
        await ShotAsync(dashboard, "dashboard-after-1280");
        await dashboard.SetViewportSizeAsync(375, 800);
        (await dashboard.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"))
            .ShouldBeTrue("the dashboard fits a phone's width");
        await ShotAsync(dashboard, "dashboard-after-375");
        output.WriteLine("Screenshot: " + await dashboard.ScreenshotAsync(new() { Path = Path.Combine(Browser.BrowserApp.ScreenshotDirectory, "dashboard-after-375-top.png") }));
        app.Csp.ShouldBeClean();
    }

    private static Task<int> DurationClipsAsync(IPage page) => page.EvaluateAsync<int>("""
        () => [...document.querySelectorAll('[data-testid="chart-table-duration"] tbody tr')].reduce((sum, row) => sum + Number(row.dataset.value || 0), 0)
        """);

    /// <summary>A consenting contributor records one spoken take in their own browser and submits it; returns their id.</summary>
    private async Task<Guid> RecordAndSubmitAsync(TestJob job, string name)
    {
        var user = await RecordingTestData.ContributorAsync(app, job);
        var page = await PageAsync(user.Email!, microphone: true);
        await page.GotoAsync($"/Recording/{job.Id}");
        await Expect(page.GetByTestId("prompt")).ToContainTextAsync("Sentence number");
        await page.GetByTestId("mic-check").ClickAsync();
        await Expect(page.GetByTestId("record")).ToBeEnabledAsync();
        await page.Keyboard.PressAsync("Space");
        await Expect(page.GetByTestId("stop")).ToBeEnabledAsync();
        // Four and a half seconds of the microphone's speech analysed by the server: a condition, not a sleep.
        await page.WaitForFunctionAsync("() => Number(document.getElementById('recorder').dataset.heardMs) >= 4500", null,
            new() { Timeout = 60_000 });
        await page.Keyboard.PressAsync("Space");
        await Expect(page.GetByTestId("verdict")).ToHaveAttributeAsync("data-passed", "true", new() { Timeout = 30_000 });
        await page.GetByTestId("submit").ClickAsync();
        await Expect(page.GetByTestId("status")).ToContainTextAsync("Submitted");
        await ShotAsync(page, "dashboard-recorder-" + name);
        return user.Id;
    }

    private async Task<IPage> PageAsync(string email, bool microphone)
    {
        // One browser, a context (own cookies) per person; its fake microphone plays speech to whoever records.
        _browser ??= await app.BrowserWithMicrophoneAsync(await TestAudio.SpeechCaptureWavAsync());
        var context = await _browser.NewContextAsync(new()
        {
            BaseURL = app.BaseUrl, Locale = "en-GB", Permissions = microphone ? ["microphone"] : [],
        });
        await app.Csp.WatchAsync(context);
        (await context.APIRequest.PostAsync("/api/accounts/signin",
            new() { DataObject = new { email, password = Infrastructure.TestAccounts.Password } })).Ok.ShouldBeTrue();
        var page = await context.NewPageAsync();
        page.Console += (_, m) => output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"browser {m.Type}: {m.Text}"));
        return page;
    }

    private async Task ShotAsync(IPage page, string name) =>
        output.WriteLine("Screenshot: " + await Browser.BrowserApp.ScreenshotAsync(page, name));
}
