using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Crowd.Server.Features.Exports.Contributor;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.Exports;

public sealed class ContributorExportTests(ExportsApp app) : IClassFixture<ExportsApp>
{
    private const string Page = "/Account/Export";

    /// <summary>Runs the preparation job of every waiting export, as the job server would.</summary>
    private async Task BuildWaitingExportsAsync()
    {
        var waiting = await app.WithDbAsync(db => db.Set<ContributorExport>().Where(e => e.State == ContributorExportState.Pending).Select(e => e.Id).ToListAsync());
        await using var scope = app.Services.CreateAsyncScope();
        var exports = scope.ServiceProvider.GetRequiredService<ContributorExports>();
        foreach (var id in waiting)
        {
            (await exports.PrepareAsync(id, default)).ShouldBeTrue();
        }
    }

    private async Task<int> ExpireAsync()
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ContributorExports>().ExpireAsync(default);
    }

    private static string DownloadLink(string html)
    {
        var match = System.Text.RegularExpressions.Regex.Match(html, "data-testid=\"download\" href=\"([^\"]+)\"");
        match.Success.ShouldBeTrue("the page shows a download link");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    [Fact]
    public async Task WhileMyDataIsPreparedThePageSaysHowManyFilesAreWrittenInWordsThatFitTheCount()
    {
        var me = await RecordingTestData.ContributorAsync(app);
        var client = await app.SignedInClientAsync(me.Email!);
        (await client.SubmitAsync(Page + "?handler=Prepare")).StatusCode.ShouldBe(HttpStatusCode.Redirect);

        async Task<(string English, string Chinese)> ProgressAsync(int done, int total)
        {
            await app.WithDbAsync(db => db.Set<ContributorExport>().Where(e => e.ContributorId == me.Id).ExecuteUpdateAsync(u => u
                .SetProperty(e => e.State, ContributorExportState.Building).SetProperty(e => e.ItemsDone, done).SetProperty(e => e.ItemsTotal, total)));
            return (WebUtility.HtmlDecode(await client.GetPageAsync(Page, "en")), WebUtility.HtmlDecode(await client.GetPageAsync(Page, "zh-CN")));
        }

        var (counting, countingZh) = await ProgressAsync(0, 0);
        counting.ShouldContain("Preparing your data: gathering what goes into your download.");
        counting.ShouldNotContain("0 of 0");
        countingZh.ShouldContain("正在收集要放入下载文件的内容");
        var (writing, writingZh) = await ProgressAsync(2, 6);
        writing.ShouldContain("Preparing your data: 2 of 6 files written so far. This page updates by itself.");
        writingZh.ShouldContain("6 个文件中已写入 2 个");
        (await ProgressAsync(0, 1)).English.ShouldContain("0 of 1 file written so far.");
    }

    [Fact]
    public async Task PreparingMyDataGivesAZipOfMyRecordingsConsentsClipsEarningsAndPayouts()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 3);
        var me = await RecordingTestData.ContributorAsync(app);
        var consent = await ExportTestData.ConsentAsync(app, job, me.Id, voiceCloning: true);
        var kept = await ExportTestData.ClipAsync(app, job, me.Id, consent, 0);
        var waiting = await ExportTestData.ClipAsync(app, job, me.Id, consent, 1, new ClipSpec(ClipReview.Waiting));
        var destroyed = await ExportTestData.ClipAsync(app, job, me.Id, consent, 2, new ClipSpec(Withdrawn: true, Destroyed: true));
        var someoneElse = await RecordingTestData.ContributorAsync(app);
        await ExportTestData.ClipAsync(app, job, someoneElse.Id, await ExportTestData.ConsentAsync(app, job, someoneElse.Id), 0);
        var client = await app.SignedInClientAsync(me.Email!);

        (await client.GetPageAsync(Page)).ShouldContain("Prepare my data");
        var prepared = await client.SubmitAsync(Page + "?handler=Prepare");
        prepared.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var preparing = await client.GetPageAsync(Page);
        preparing.ShouldContain("Preparing your data: gathering what goes into your download. This page updates by itself.");
        preparing.ShouldNotContain("0 of 0");
        preparing.ShouldContain("http-equiv=\"refresh\"");
        await BuildWaitingExportsAsync();
        var ready = await client.GetPageAsync(Page);
        ready.ShouldContain("Your data is ready");

        var download = await client.GetAsync(DownloadLink(ready));
        download.StatusCode.ShouldBe(HttpStatusCode.OK);
        download.Content.Headers.ContentType!.MediaType.ShouldBe("application/zip");
        using var zip = new ZipArchive(await download.Content.ReadAsStreamAsync());
        var names = zip.Entries.Select(e => e.FullName).ToList();
        names.ShouldBe([$"recordings/{job.Id:D}/{kept.Id:D}.wav", $"recordings/{job.Id:D}/{waiting.Id:D}.wav",
            "clips.json", "consents.json", "earnings.json", "payouts.json"], ignoreOrder: true);
        using (var wav = zip.GetEntry($"recordings/{job.Id:D}/{kept.Id:D}.wav")!.Open())
        {
            Convert.ToHexStringLower(await SHA256.HashDataAsync(wav)).ShouldBe(kept.Sha256, "the recording comes back decrypted, byte for byte");
        }
        var clips = Json(zip, "clips.json").EnumerateArray().ToList();
        clips.Select(c => c.GetProperty("clipId").GetGuid()).ShouldBe([kept.Id, waiting.Id, destroyed.Id], ignoreOrder: true);
        clips.Single(c => c.GetProperty("clipId").GetGuid() == destroyed.Id).GetProperty("file").ValueKind.ShouldBe(JsonValueKind.Null);
        clips.Single(c => c.GetProperty("clipId").GetGuid() == kept.Id).GetProperty("metrics").GetProperty("rmsDbfs").GetDouble().ShouldBe(-21.5);
        var consentJson = Json(zip, "consents.json").EnumerateArray().ShouldHaveSingleItem();
        consentJson.GetProperty("voiceCloning").GetBoolean().ShouldBeTrue();
        consentJson.GetProperty("buyer").GetString().ShouldBe("Acme Speech AI");
        Json(zip, "earnings.json").GetProperty("jobs").ValueKind.ShouldBe(JsonValueKind.Array);
        Json(zip, "payouts.json").ValueKind.ShouldBe(JsonValueKind.Array);

        var audit = await app.WithDbAsync(db => db.AuditLog.Where(e => e.SubjectType == "contributor_export" && e.ActorId == me.Id).ToListAsync());
        audit.Select(e => (e.Action, e.Reason)).ShouldBe([("contributor_export.created", "contributor export"), ("audio.read", "contributor export")], ignoreOrder: true);
        audit[0].Details.ShouldContain("\"recordings\":2");
    }

    [Fact]
    public async Task AnExpiredLinkGivesAClearPage()
    {
        var me = await RecordingTestData.ContributorAsync(app);
        var client = await app.SignedInClientAsync(me.Email!);
        await client.SubmitAsync(Page + "?handler=Prepare");
        await BuildWaitingExportsAsync();
        var link = DownloadLink(await client.GetPageAsync(Page));
        var export = await app.WithDbAsync(db => db.Set<ContributorExport>().SingleAsync(e => e.ContributorId == me.Id));

        await app.WithDbAsync(db => db.Set<ContributorExport>().Where(e => e.Id == export.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1))));
        var expired = await client.GetAsync(link);

        expired.StatusCode.ShouldBe(HttpStatusCode.Gone);
        (await expired.Content.ReadAsStringAsync()).ShouldContain("This download link has expired or is not valid. Prepare your data again to get a new link.");
        (await ExpireAsync()).ShouldBeGreaterThanOrEqualTo(1);
        (await client.GetPageAsync(Page)).ShouldContain("Your last export has expired.");
    }

    [Fact]
    public async Task ExportZipsAnEarlierVersionLeftInClearAreDeletedByTheExportsUpkeep()
    {
        var legacy = Path.Combine(app.DataDirectory, "exports");
        Directory.CreateDirectory(legacy);
        await File.WriteAllBytesAsync(Path.Combine(legacy, $"{Guid.CreateVersion7()}.zip"), ExportTestData.Wav(Guid.CreateVersion7(), seconds: 0.1));

        await using (var scope = app.Services.CreateAsyncScope())
        {
            await ActivatorUtilities.CreateInstance<ContributorExportsJob>(scope.ServiceProvider).RunAsync(DateTimeOffset.UtcNow, default);
        }

        Directory.Exists(legacy).ShouldBeFalse("no recording may stay in clear outside the vault");
    }

    [Fact]
    public async Task AClipWithdrawnAfterTheExportWasPreparedIsNotInTheDownload()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 2);
        var me = await RecordingTestData.ContributorAsync(app);
        var consent = await ExportTestData.ConsentAsync(app, job, me.Id);
        var kept = await ExportTestData.ClipAsync(app, job, me.Id, consent, 0);
        var withdrawn = await ExportTestData.ClipAsync(app, job, me.Id, consent, 1);
        var client = await app.SignedInClientAsync(me.Email!);
        await client.SubmitAsync(Page + "?handler=Prepare");
        await BuildWaitingExportsAsync();
        var link = DownloadLink(await client.GetPageAsync(Page));

        (await client.PostAsync($"/api/me/clips/{withdrawn.Id}/withdraw", null)).EnsureSuccessStatusCode();
        var download = await client.GetAsync(link);

        download.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var zip = new ZipArchive(await download.Content.ReadAsStreamAsync());
        zip.Entries.Select(e => e.FullName).Where(n => n.StartsWith("recordings/", StringComparison.Ordinal))
            .ShouldBe([$"recordings/{job.Id:D}/{kept.Id:D}.wav"], "the withdrawn recording is gone from the very link prepared before");
        var listed = Json(zip, "clips.json").EnumerateArray().Single(c => c.GetProperty("clipId").GetGuid() == withdrawn.Id);
        listed.GetProperty("file").ValueKind.ShouldBe(JsonValueKind.Null);
        listed.GetProperty("withdrawnAt").ValueKind.ShouldNotBe(JsonValueKind.Null);
    }

    [Fact]
    public async Task NoRecordingIsWrittenInClearToDiskWhenDataIsPreparedAndDownloaded()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 1);
        var me = await RecordingTestData.ContributorAsync(app);
        var clip = await ExportTestData.ClipAsync(app, job, me.Id, await ExportTestData.ConsentAsync(app, job, me.Id), 0);
        var wav = ExportTestData.Wav(clip.Id, seconds: 0.5);
        var client = await app.SignedInClientAsync(me.Email!);

        await client.SubmitAsync(Page + "?handler=Prepare");
        await BuildWaitingExportsAsync();
        (await client.GetAsync(DownloadLink(await client.GetPageAsync(Page)))).StatusCode.ShouldBe(HttpStatusCode.OK);

        var written = Directory.EnumerateFiles(app.DataDirectory, "*", SearchOption.AllDirectories).ToList();
        written.ShouldNotBeEmpty();
        foreach (var file in written)
        {
            var bytes = await File.ReadAllBytesAsync(file);
            bytes.AsSpan().IndexOf(wav.AsSpan(44, 4_000)).ShouldBe(-1, $"{file} holds the recording's samples in clear");
            if (!OperatingSystem.IsWindows())
            {
                File.GetUnixFileMode(file).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite, $"{file} is readable by the server's user only");
            }
        }
    }

    [Fact]
    public async Task SomeoneElsesLinkOrAnAlteredOneDownloadsNothing()
    {
        var me = await RecordingTestData.ContributorAsync(app);
        var mine = await app.SignedInClientAsync(me.Email!);
        await mine.SubmitAsync(Page + "?handler=Prepare");
        await BuildWaitingExportsAsync();
        var link = DownloadLink(await mine.GetPageAsync(Page));
        var other = await app.SignedInClientAsync((await RecordingTestData.ContributorAsync(app)).Email!);

        (await other.GetAsync(link)).StatusCode.ShouldBe(HttpStatusCode.Gone);
        (await mine.GetAsync(link.Replace("token=", "token=AAA", StringComparison.Ordinal))).StatusCode.ShouldBe(HttpStatusCode.Gone);
        (await app.AnonymousClient().GetAsync(link)).StatusCode.ShouldBe(HttpStatusCode.Redirect, "signing in comes first");
        (await mine.GetAsync(link)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ThePageSpeaksChinese()
    {
        var me = await RecordingTestData.ContributorAsync(app);
        var client = await app.SignedInClientAsync(me.Email!);

        var html = await client.GetPageAsync(Page, "zh-Hans");

        html.ShouldContain("准备我的数据");
        html.ShouldContain("我的数据");
    }

    private static JsonElement Json(ZipArchive zip, string name)
    {
        using var stream = zip.GetEntry(name)!.Open();
        return JsonDocument.Parse(stream).RootElement.Clone();
    }
}
