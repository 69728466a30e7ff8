using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Crowd.Server.Tests.Features.Recording;

/// <summary>The server on a real Kestrel port on 127.0.0.1, for a real browser.</summary>
public sealed class BrowserApp : RecordingApp, IAsyncLifetime
{
    public string BaseUrl { get; private set; } = "";

    async Task IAsyncLifetime.InitializeAsync()
    {
        var client = Path.Combine(Crowd.Server.Infrastructure.Database.CrowdDatabase.RepositoryRoot(AppContext.BaseDirectory), "src", "Crowd.Server", "wwwroot", "lib", "signalr", "signalr.min.js");
        File.Exists(client).ShouldBeTrue("the SignalR browser client is copied into wwwroot by scripts/setup (npm ci, scripts/copy-signalr.mjs)");
        await InitializeAsync();
        UseKestrel(0);
        StartServer();
        BaseUrl = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal);
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}

public sealed class RecorderBrowserTests(BrowserApp app, ITestOutputHelper output) : IClassFixture<BrowserApp>
{
    private static readonly string s_screenshots = Path.GetFullPath(Path.Combine("TestResults", "screenshots"));

    [Fact]
    public async Task AContributorConsentsRecordsASpokenTakeSeesItPassAndSubmitsIt()
    {
        var (page, job, user) = await RecordAsync(await TestAudio.SpeechCaptureWavAsync(), "speech");

        await Expect(page.GetByTestId("verdict")).ToHaveAttributeAsync("data-passed", "true", new() { Timeout = 30_000 });
        await ShotAsync(page, "speech-verdict");
        await page.GetByTestId("submit").ClickAsync();
        await Expect(page.GetByTestId("status")).ToContainTextAsync("Submitted");
        await Expect(page.GetByTestId("progress")).ToContainTextAsync("1 / 2 · 1");
        await ShotAsync(page, "speech-submitted");

        var clip = await app.WithDbAsync(db => db.Clips.AsNoTracking().SingleAsync(c => c.JobId == job.Id && c.ContributorId == user));
        var metrics = JsonNode.Parse(clip.Metrics)!;
        ((double)metrics["durationSeconds"]!).ShouldBeGreaterThan(2);
        ((double)metrics["speechRatio"]!).ShouldBeGreaterThan(0.2);
        var settings = JsonNode.Parse(clip.BrowserSettings)!;
        ((bool?)settings["echoCancellation"]).ShouldBe(false);
        ((bool?)settings["noiseSuppression"]).ShouldBe(false);
        ((bool?)settings["autoGainControl"]).ShouldBe(false);
        ((int)settings["contextSampleRate"]!).ShouldBeGreaterThan(16_000);
        output.WriteLine($"Stored clip {clip.Id}: {clip.DurationMs} ms, metrics {clip.Metrics}, browser {clip.BrowserSettings}");
    }

    [Fact]
    public async Task InANoisyRoomTheRecorderShowsTheNoiseHintAndTheTakeFails()
    {
        var (page, _, _) = await RecordAsync(await TestAudio.NoisyCaptureWavAsync(), "noisy");

        await Expect(page.GetByTestId("verdict")).ToHaveAttributeAsync("data-passed", "false", new() { Timeout = 30_000 });
        await ShotAsync(page, "noisy-verdict");
        (await page.GetByTestId("hints").GetAttributeAsync("data-seen"))!.ShouldContain("too_noisy");
        (await page.GetByTestId("verdict").GetAttributeAsync("data-reasons"))!.ShouldContain("too_noisy");
        await Expect(page.GetByTestId("submit")).ToBeDisabledAsync();
        await Expect(page.GetByTestId("rerecord")).ToBeEnabledAsync();
    }

    private async Task<(IPage Page, TestJob Job, Guid User)> RecordAsync(string wav, string name)
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 2, title: "Read aloud: " + name);
        var user = await RecordingTestData.ContributorAsync(app);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--use-file-for-fake-audio-capture=" + wav,
                "--autoplay-policy=no-user-gesture-required",
            ],
        });
        var context = await browser.NewContextAsync(new() { BaseURL = app.BaseUrl, Permissions = ["microphone"], Locale = "en-GB" });
        var signIn = await context.APIRequest.PostAsync("/api/accounts/signin",
            new() { DataObject = new { email = user.Email, password = Infrastructure.TestAccounts.Password } });
        signIn.Ok.ShouldBeTrue();
        var page = await context.NewPageAsync();
        page.Console += (_, m) => output.WriteLine($"browser {m.Type}: {m.Text}");

        await page.GotoAsync($"/Recording/{job.Id}");
        page.Url.ShouldEndWith($"/Recording/{job.Id}/Consent", Case.Insensitive, "the recorder is gated on consent");
        await page.GetByTestId("consent").ClickAsync();
        await page.WaitForURLAsync($"**/Recording/{job.Id}");
        await Expect(page.GetByTestId("prompt")).ToContainTextAsync("Sentence number");
        await Expect(page.GetByTestId("record")).ToBeDisabledAsync(); // the microphone check comes first

        await page.GetByTestId("mic-check").ClickAsync();
        await Expect(page.GetByTestId("record")).ToBeEnabledAsync();
        await page.Keyboard.PressAsync("Space");
        await Expect(page.GetByTestId("stop")).ToBeEnabledAsync();
        await page.WaitForTimeoutAsync(4_500);
        await ShotAsync(page, name + "-recording");
        var level = float.Parse((await page.GetByTestId("meter").GetAttributeAsync("data-max-level"))!, CultureInfo.InvariantCulture);
        level.ShouldBeGreaterThan(-40f, "the meter moved with the voice");
        await page.Keyboard.PressAsync("Space");
        return (page, job, user.Id);
    }

    private async Task ShotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(s_screenshots);
        var path = Path.Combine(s_screenshots, name + ".png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        output.WriteLine("Screenshot: " + path);
    }
}
