using System.IO.Compression;
using Crowd.Server.Tests.Browser;
using Microsoft.AspNetCore.Hosting;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Crowd.Server.Tests.Features.Exports;

/// <summary>The browser against a server whose job server runs, as in production: nobody prepares the download by hand.</summary>
public sealed class WorkingBrowserApp : BrowserApp
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crowd:Scheduler:Enabled", "true");
        builder.UseSetting("Crowd:Scheduler:Workers", "2");
    }
}

public sealed class DatasetExportBrowserTests(WorkingBrowserApp app, ITestOutputHelper output) : IClassFixture<WorkingBrowserApp>
{
    [Fact]
    public async Task ARequesterChoosesTheUseSeesWhatQualifiesAndWhyExportsWatchesItPrepareAndDownloadsTheZip()
    {
        var job = await ExportTestData.JobWithEveryExclusionAsync(app);
        var page = await app.SignedInPageAsync(await ExportTestData.OwnerEmailAsync(app, job));
        await page.SetViewportSizeAsync(375, 800);

        await page.GotoAsync($"/Jobs/{job.Id}");
        await page.GetByTestId("export-link").ClickAsync();
        await Expect(page.GetByTestId("qualifying")).ToHaveTextAsync("2 clips qualify.");
        await Expect(page.GetByTestId("withdrawn")).ToHaveTextAsync("3");
        await page.GetByTestId("use-voice-cloning").CheckAsync();
        await page.GetByTestId("show-use").ClickAsync();
        await Expect(page.GetByTestId("qualifying")).ToHaveTextAsync("1 clip qualifies.");
        await Expect(page.GetByTestId("not-covered")).ToHaveTextAsync("1");
        await page.GetByTestId("use-speech-recognition").CheckAsync();
        await page.GetByTestId("show-use").ClickAsync();
        await Expect(page.GetByTestId("start-export")).ToHaveTextAsync("Export 2 clips for Speech recognition");

        await page.GetByTestId("start-export").ClickAsync();
        var download = page.GetByTestId("download");
        // The page reloads itself while the job server prepares the ZIP.
        await Expect(download).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(page.GetByTestId("exports")).ToContainTextAsync("Ready: 2 clips, about");
        (await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth")).ShouldBeTrue("the page fits a phone's width");
        output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, "dataset-export-375"));
        await page.SetViewportSizeAsync(1280, 900);
        output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, "dataset-export-1280"));

        var file = await page.RunAndWaitForDownloadAsync(() => download.ClickAsync());
        var path = Path.Combine(Path.GetTempPath(), "dataset-" + Guid.NewGuid().ToString("N") + ".zip");
        await file.SaveAsAsync(path);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            zip.Entries.Count(e => e.FullName.StartsWith("clips/", StringComparison.Ordinal)).ShouldBe(2);
            zip.GetEntry("signature.json").ShouldNotBeNull();
            zip.GetEntry("crowd-dataset-keys.json").ShouldNotBeNull();
        }
        finally
        {
            File.Delete(path);
        }
        file.SuggestedFilename.ShouldStartWith("dataset-speech-recognition-");
        app.Csp.ShouldBeClean();
    }
}
