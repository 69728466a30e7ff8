using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Crowd.Server.Tests.Features.Recording;

/// <summary>The recording server on a real Kestrel port on 127.0.0.1, for Chromium with a fake microphone.</summary>
public sealed class RecorderApp : RecordingApp, IAsyncLifetime
{
    private readonly List<IBrowser> _browsers = [];
    private IPlaywright? _playwright;

    public string BaseUrl { get; private set; } = "";

    /// <summary>What the content security policy blocked in any page of these tests; each test ends by checking it is empty.</summary>
    public Browser.CspWatch Csp { get; } = new();

    /// <summary>A browser whose microphone plays the given WAV file; closed with the fixture.</summary>
    public async Task<IBrowser> BrowserWithMicrophoneAsync(string wav)
    {
        _playwright ??= await Playwright.CreateAsync();
        var browser = await Browser.BrowserApp.LaunchChromiumAsync(_playwright,
        [
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--use-file-for-fake-audio-capture=" + wav,
            "--autoplay-policy=no-user-gesture-required",
        ]);
        _browsers.Add(browser);
        return browser;
    }

    async Task IAsyncLifetime.InitializeAsync()
    {
        var client = Path.Combine(Crowd.Server.Infrastructure.Database.CrowdDatabase.RepositoryRoot(AppContext.BaseDirectory), "src", "Crowd.Server", "wwwroot", "lib", "signalr", "signalr.min.js");
        File.Exists(client).ShouldBeTrue("the SignalR browser client is copied into wwwroot by scripts/setup (npm ci, scripts/copy-browser-libs.mjs)");
        // Expectations wait for what the page shows; on a machine shared with other builds the server's answer can take
        // longer than Playwright's 5 s default.
        SetDefaultExpectTimeout(20_000);
        await InitializeAsync();
        UseKestrel(0);
        StartServer();
        BaseUrl = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        foreach (var browser in _browsers)
        {
            await browser.DisposeAsync();
        }
        _playwright?.Dispose();
        await DisposeAsync();
    }
}

public sealed class RecorderBrowserTests(RecorderApp app, ITestOutputHelper output) : IClassFixture<RecorderApp>
{

    [Fact]
    public async Task AContributorConsentsRecordsASpokenTakeSeesItPassAndSubmitsIt()
    {
        var (page, job, user) = await RecordAsync(await TestAudio.SpeechCaptureWavAsync(), "speech");
        var level = float.Parse((await page.GetByTestId("meter").GetAttributeAsync("data-max-level"))!, CultureInfo.InvariantCulture);
        level.ShouldBeGreaterThan(-40f, "the meter moved with the voice");

        await Expect(page.GetByTestId("verdict")).ToHaveAttributeAsync("data-passed", "true", new() { Timeout = 30_000 });
        await ShotAsync(page, "speech-verdict");
        await page.GetByTestId("submit").ClickAsync();
        await Expect(page.GetByTestId("status")).ToContainTextAsync("Submitted");
        await Expect(page.GetByTestId("progress")).ToContainTextAsync("1 of 2 prompts recorded · 1 clip this session");
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
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task AContributorWithdrawsARecordedClipAfterOneConfirmationAndItLeavesQueueAndExportsWithANoticeToTheRequester()
    {
        var (page, job, user) = await RecordAsync(await TestAudio.SpeechCaptureWavAsync(), "withdraw");
        await Expect(page.GetByTestId("verdict")).ToHaveAttributeAsync("data-passed", "true", new() { Timeout = 30_000 });
        await page.GetByTestId("submit").ClickAsync();
        await Expect(page.GetByTestId("status")).ToContainTextAsync("Submitted");
        var clip = await app.WithDbAsync(db => db.Clips.AsNoTracking().SingleAsync(c => c.JobId == job.Id && c.ContributorId == user));
        var requester = await app.WithDbAsync(db => db.Jobs.Where(j => j.Id == job.Id)
            .Join(db.Users, j => j.CreatedByUserId, u => u.Id, (j, u) => new { u.Id, u.Email, j.OrganisationId }).SingleAsync());

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var reviews = scope.ServiceProvider.GetRequiredService<Crowd.Server.Features.Reviews.ReviewService>();
            (await reviews.QueueAsync(job.Id, 50, default)).Clips.Select(c => c.ClipId).ShouldContain(clip.Id);
            await reviews.AcceptAsync(requester.OrganisationId, requester.Id, clip.Id, default);
            var exported = await scope.ServiceProvider.GetRequiredService<Crowd.Server.Features.Exports.Datasets.DatasetExporter>()
                .CreateAsync(new(requester.OrganisationId, requester.Id, null), job.Id, Crowd.Server.Features.Exports.Datasets.DatasetUse.SpeechRecognition, default);
            exported.Export!.ManifestJsonl.ShouldContain(clip.Id.ToString());
        }

        await page.GotoAsync("/MyData");
        await ShotAsync(page, "withdraw-my-data");
        await page.GetByTestId("clip-" + clip.Id).GetByRole(AriaRole.Button, new() { Name = "Withdraw this clip" }).ClickAsync();
        await page.GetByTestId("clip-" + clip.Id).GetByRole(AriaRole.Button, new() { Name = "Delete it for good" }).ClickAsync();
        await Expect(page.GetByTestId("done")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("clip-" + clip.Id).GetByTestId("status")).ToContainTextAsync("Withdrawn, audio destroyed");
        await Expect(page.GetByTestId("job-" + job.Id).GetByTestId("earned")).Not.ToContainTextAsync("—", new() { UseInnerText = true });
        await ShotAsync(page, "withdraw-done");

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var withdrawn = await scope.ServiceProvider.GetRequiredService<Crowd.Server.Infrastructure.Database.CrowdDb>().Clips.AsNoTracking().SingleAsync(c => c.Id == clip.Id);
            (await scope.ServiceProvider.GetRequiredService<Crowd.Server.Features.Recording.Clips.ClipVault>().ReadAsync(withdrawn, default))
                .ShouldBeNull("the clip's key is destroyed: its audio cannot be decrypted anywhere");
            (await scope.ServiceProvider.GetRequiredService<Crowd.Server.Features.Reviews.ReviewService>().QueueAsync(job.Id, 50, default))
                .Clips.ShouldNotContain(c => c.ClipId == clip.Id);
            var again = await scope.ServiceProvider.GetRequiredService<Crowd.Server.Features.Exports.Datasets.DatasetExporter>()
                .CreateAsync(new(requester.OrganisationId, requester.Id, null), job.Id, Crowd.Server.Features.Exports.Datasets.DatasetUse.SpeechRecognition, default);
            (again.Export?.ManifestJsonl ?? "").ShouldNotContain(clip.Id.ToString());
        }

        var browser = await app.BrowserWithMicrophoneAsync(await TestAudio.SpeechCaptureWavAsync());
        var context = await browser.NewContextAsync(new() { BaseURL = app.BaseUrl, Locale = "en-GB" });
        await app.Csp.WatchAsync(context);
        (await context.APIRequest.PostAsync("/api/accounts/signin",
            new() { DataObject = new { email = requester.Email, password = Infrastructure.TestAccounts.Password } })).Ok.ShouldBeTrue();
        var requesterPage = await context.NewPageAsync();
        await requesterPage.GotoAsync("/Requester/Notices");
        await Expect(requesterPage.Locator("[data-testid^='notice-']")).ToHaveCountAsync(1);
        await Expect(requesterPage.Locator("[data-testid^='notice-']")).ToContainTextAsync(clip.Id.ToString());
        await ShotAsync(requesterPage, "withdraw-requester-notice");
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task ATakeGoesOnWhenTheConnectionDropsMidTakeAndPassesWithAllItsAudio()
    {
        var sockets = new List<IWebSocketRoute>();
        var (page, job, user) = await RecordAsync(await TestAudio.SpeechCaptureWavAsync(), "dropped",
            beforeOpening: p => p.RouteWebSocketAsync("**/hubs/recording", ws =>
            {
                sockets.Add(ws);
                ws.ConnectToServer();
            }),
            whileRecording: async p =>
            {
                await p.WaitForFunctionAsync("() => Number(document.getElementById('recorder').dataset.heardMs) >= 1500", null,
                    new() { Timeout = 60_000 });
                await sockets[^1].CloseAsync(); // the network drops the socket; the page keeps recording
            });

        await Expect(page.GetByTestId("verdict")).ToHaveAttributeAsync("data-passed", "true", new() { Timeout = 30_000 });
        await ShotAsync(page, "dropped-verdict");
        sockets.Count.ShouldBe(2, "the page reconnected once");
        await page.GetByTestId("submit").ClickAsync();
        await Expect(page.GetByTestId("status")).ToContainTextAsync("Submitted");
        var clip = await app.WithDbAsync(db => db.Clips.AsNoTracking().SingleAsync(c => c.JobId == job.Id && c.ContributorId == user));
        clip.DurationMs.ShouldBeGreaterThan(4_500, "the audio from before the drop and after it, in one take");
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task SpeechAtFiveDecibelsShowsTheNoiseHintWithinASecondAndTheTakeFailsForNoise()
    {
        var (page, _, _) = await RecordAsync(await TestAudio.SpeechInNoiseCaptureWavAsync(5), "snr5");

        await Expect(page.GetByTestId("verdict")).ToHaveAttributeAsync("data-passed", "false", new() { Timeout = 30_000 });
        await ShotAsync(page, "snr5-verdict");
        var shown = FirstShownMs(await page.GetByTestId("hints").GetAttributeAsync("data-first-ms"), "too_noisy");
        shown.ShouldNotBeNull("the noise hint showed");
        shown.Value.ShouldBeInRange(100, 1000, "the noise hint shows within the take's first second of audio");
        (await page.GetByTestId("verdict").GetAttributeAsync("data-reasons"))!.ShouldContain("too_noisy");
        await Expect(page.GetByTestId("submit")).ToBeDisabledAsync();
        await Expect(page.GetByTestId("rerecord")).ToBeEnabledAsync();
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task CleanSpeechAtThirtyDecibelsNeverShowsTheNoiseHintAndTheMeterIsGreenWhileSpeaking()
    {
        var (page, _, _) = await RecordAsync(await TestAudio.SpeechInNoiseCaptureWavAsync(30), "snr30");

        await Expect(page.GetByTestId("verdict")).ToHaveAttributeAsync("data-passed", "true", new() { Timeout = 30_000 });
        await ShotAsync(page, "snr30-verdict");
        FirstShownMs(await page.GetByTestId("hints").GetAttributeAsync("data-first-ms"), "too_noisy").ShouldBeNull("no noise hint at any point");
        (await page.GetByTestId("meter").GetAttributeAsync("data-seen-levels"))!.Split(' ').ShouldContain("good");
        int.Parse((await page.GetByTestId("level-history").GetAttributeAsync("data-frames"))!, CultureInfo.InvariantCulture)
            .ShouldBeGreaterThanOrEqualTo(45, "the whole take is drawn for listening back");
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task PureNoiseNeverTurnsTheMeterGreen()
    {
        var (page, _, _) = await RecordAsync(await TestAudio.NoiseCaptureWavAsync(), "noise-only");

        await Expect(page.GetByTestId("verdict")).ToHaveAttributeAsync("data-passed", "false", new() { Timeout = 30_000 });
        (await page.GetByTestId("meter").GetAttributeAsync("data-seen-levels"))!.Split(' ').ShouldNotContain("good");
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task SilenceShowsWeCannotHearYou()
    {
        var (page, _, _) = await RecordAsync(await TestAudio.SilenceCaptureWavAsync(), "silence");

        await Expect(page.GetByTestId("hints")).ToContainTextAsync("We can't hear you");
        await Expect(page.GetByTestId("verdict")).ToHaveAttributeAsync("data-passed", "false", new() { Timeout = 30_000 });
        (await page.GetByTestId("verdict").GetAttributeAsync("data-reasons"))!.ShouldContain("no_speech");
        (await page.GetByTestId("meter").GetAttributeAsync("data-seen-levels"))!.Split(' ').ShouldNotContain("good");
        await ShotAsync(page, "silence-verdict");
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task ASecondTabHearsInChineseThatTheSessionIsOpenElsewhereAndTakingItOverTellsTheFirstTab()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 2, title: "Read aloud: two tabs");
        var user = await RecordingTestData.ContributorAsync(app, consentTo: job);
        var browser = await app.BrowserWithMicrophoneAsync(await TestAudio.SilenceCaptureWavAsync());
        var context = await browser.NewContextAsync(new() { BaseURL = app.BaseUrl, Permissions = ["microphone"], Locale = "zh-CN" });
        await app.Csp.WatchAsync(context);
        (await context.APIRequest.PostAsync("/api/accounts/signin",
            new() { DataObject = new { email = user.Email, password = Infrastructure.TestAccounts.Password } })).Ok.ShouldBeTrue();

        var first = await context.NewPageAsync();
        await first.GotoAsync($"/Recording/{job.Id}");
        await Expect(first.GetByTestId("prompt")).ToContainTextAsync("Sentence number");
        await Expect(first.GetByTestId("progress")).ToHaveTextAsync("已录 0 / 2 条提示 · 本次会话 0 条");
        // Joining is already work, so a cent may have accrued; the figure is written as the server writes money.
        await Expect(first.GetByTestId("earned")).ToHaveTextAsync(new Regex(@"^0\.0\d CNY$"));

        var second = await context.NewPageAsync();
        await second.GotoAsync($"/Recording/{job.Id}");
        await Expect(second.GetByTestId("status")).ToContainTextAsync("此工作会话已在另一个标签页或窗口中打开。请在那里关闭，或在此处接管。");
        await ShotAsync(second, "open-elsewhere-zh");
        await second.GetByTestId("status").GetByRole(AriaRole.Button, new() { Name = "改用此标签页" }).ClickAsync();
        await Expect(second.GetByTestId("prompt")).ToContainTextAsync("Sentence number");
        await Expect(first.GetByTestId("status")).ToHaveTextAsync("此工作会话已被另一个标签页或窗口接管。");
        await Expect(first.GetByTestId("skip")).ToBeDisabledAsync();
        app.Csp.ShouldBeClean();
    }

    private static int? FirstShownMs(string? firstMs, string code) =>
        JsonNode.Parse(firstMs ?? "{}")![code] is { } ms ? (int)ms : null;

    private async Task<(IPage Page, TestJob Job, Guid User)> RecordAsync(string wav, string name,
        Func<IPage, Task>? beforeOpening = null, Func<IPage, Task>? whileRecording = null)
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 2, title: "Read aloud: " + name);
        var user = await RecordingTestData.ContributorAsync(app);
        var browser = await app.BrowserWithMicrophoneAsync(wav);
        var context = await browser.NewContextAsync(new() { BaseURL = app.BaseUrl, Permissions = ["microphone"], Locale = "en-GB" });
        await app.Csp.WatchAsync(context);
        var signIn = await context.APIRequest.PostAsync("/api/accounts/signin",
            new() { DataObject = new { email = user.Email, password = Infrastructure.TestAccounts.Password } });
        signIn.Ok.ShouldBeTrue();
        var page = await context.NewPageAsync();
        page.Console += (_, m) => output.WriteLine($"browser {m.Type}: {m.Text}");
        if (beforeOpening is not null)
        {
            await beforeOpening(page);
        }

        await page.GotoAsync($"/Recording/{job.Id}");
        page.Url.ShouldEndWith($"/Recording/{job.Id}/Consent", Case.Insensitive, "the recorder is gated on consent");
        await Expect(page.GetByTestId("consent-text")).ToContainTextAsync("Declining costs nothing");
        await Expect(page.GetByTestId("consent-text")).ToContainTextAsync("Who buys the recordings: Acme Speech AI.");
        await Expect(page.GetByTestId("consent-text")).ToContainTextAsync("- Speech recognition:");
        await Expect(page.GetByTestId("consent-text")).ToContainTextAsync("How long they are kept: 365 days");
        await page.GetByTestId("signature").FillAsync(user.DisplayName);
        await page.GetByTestId("consent").ClickAsync();
        await page.WaitForURLAsync($"**/Recording/{job.Id}");
        await Expect(page.GetByTestId("prompt")).ToContainTextAsync("Sentence number");
        await Expect(page.GetByTestId("record")).ToBeDisabledAsync(); // the microphone check comes first

        await page.GetByTestId("mic-check").ClickAsync();
        await Expect(page.GetByTestId("record")).ToBeEnabledAsync();
        await page.Keyboard.PressAsync("Space");
        await Expect(page.GetByTestId("stop")).ToBeEnabledAsync();
        if (whileRecording is not null)
        {
            await whileRecording(page);
        }
        // Four and a half seconds of the take analysed by the server: a condition, not a sleep, so a loaded machine only makes it slower.
        try
        {
            await page.WaitForFunctionAsync("() => Number(document.getElementById('recorder').dataset.heardMs) >= 4500", null,
                new() { Timeout = 60_000 });
        }
        catch (TimeoutException)
        {
            output.WriteLine($"The page said \"{await page.GetByTestId("status").TextContentAsync()}\" having heard {await page.EvaluateAsync<string>("() => document.getElementById('recorder').dataset.heardMs")} ms");
            throw;
        }
        await ShotAsync(page, name + "-recording");
        await page.Keyboard.PressAsync("Space");
        return (page, job, user.Id);
    }

    private async Task ShotAsync(IPage page, string name) =>
        output.WriteLine("Screenshot: " + await Browser.BrowserApp.ScreenshotAsync(page, name));
}
