using System.IO.Compression;
using System.Net;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Exports.Datasets;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Exports;

/// <summary>A job's dataset from the browser's pages: the counts and reasons, the export, its preparation and its download.</summary>
public sealed class DatasetPageTests(ExportsApp app) : IClassFixture<ExportsApp>
{
    [Fact]
    public async Task ThePageCountsTheQualifyingClipsAndWhyEachOtherClipIsLeftOutForTheChosenUse()
    {
        var (job, requester) = await JobWithClipsAsync();

        var recognition = await requester.GetPageAsync($"/Jobs/{job.Id}/Datasets");
        var cloning = await requester.GetPageAsync($"/Jobs/{job.Id}/Datasets?use=voice-cloning");

        recognition.ShouldContain("2 clips qualify.");
        recognition.ShouldContain("5 clips of this job are left out:");
        Figure(recognition, "not-accepted").ShouldBe("2");
        Figure(recognition, "withdrawn").ShouldBe("3", "a withdrawn clip, a destroyed one and one whose consent was withdrawn");
        Figure(recognition, "not-covered").ShouldBe("0");
        recognition.ShouldContain("Export 2 clips for Speech recognition");
        cloning.ShouldContain("1 clip qualifies.");
        Figure(cloning, "not-covered").ShouldBe("1", "the speaker who did not opt in to voice cloning");
    }

    [Fact]
    public async Task ExportingPreparesTheZipInTheBackgroundAndTheDownloadCarriesTheSignedFilesKeysAndOnlyLiveClips()
    {
        var (job, requester) = await JobWithClipsAsync();

        using var started = await requester.SubmitAsync($"/Jobs/{job.Id}/Datasets?handler=Start", ("use", "speech-recognition"));

        started.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var package = await app.WithDbAsync(db => db.Set<DatasetPackage>().AsNoTracking()
            .SingleAsync(p => db.Set<DatasetExport>().Any(e => e.Id == p.ExportId && e.JobId == job.Id)));
        (package.State, package.ClipsTotal).ShouldBe((DatasetPackageState.Pending, 2));
        (await requester.GetPageAsync($"/Jobs/{job.Id}/Datasets")).ShouldContain("Preparing the download: 0 of 2 clips (0 %). This page updates by itself.");

        await using (var scope = app.Services.CreateAsyncScope())
        {
            (await scope.ServiceProvider.GetRequiredService<DatasetPackages>().PrepareAsync(package.ExportId, default)).ShouldBeTrue();
            (await scope.ServiceProvider.GetRequiredService<DatasetPackages>().PrepareAsync(package.ExportId, default)).ShouldBeFalse("prepared once");
        }
        (await requester.GetPageAsync($"/Jobs/{job.Id}/Datasets")).ShouldContain("Ready: 2 clips, about");

        // A speaker withdraws one exported clip after the export: it is never in a later download.
        var exported = await app.WithDbAsync(db => db.ClipRecipients.Where(r => r.ExportId == package.ExportId).Select(r => r.ClipId).ToListAsync());
        await app.WithDbAsync(db => db.Clips.Where(c => c.Id == exported[0]).ExecuteUpdateAsync(s => s.SetProperty(c => c.WithdrawnAt, DateTimeOffset.UtcNow)));
        using var download = await requester.GetAsync($"/Jobs/{job.Id}/Datasets?handler=Download&exportId={package.ExportId}");

        download.StatusCode.ShouldBe(HttpStatusCode.OK);
        download.Content.Headers.ContentType!.MediaType.ShouldBe("application/zip");
        using var zip = new ZipArchive(await download.Content.ReadAsStreamAsync());
        zip.Entries.Select(e => e.FullName).ShouldBe(
            ["manifest.jsonl", "manifest.tsv", "signature.json", "croissant.json", "DATASHEET.md", "crowd-dataset-keys.json", $"clips/{exported[1]:D}.wav"]);
        var export = await app.WithDbAsync(db => db.Set<DatasetExport>().AsNoTracking().SingleAsync(e => e.Id == package.ExportId));
        using (var reader = new StreamReader(zip.GetEntry("manifest.jsonl")!.Open()))
        {
            (await reader.ReadToEndAsync()).ShouldBe(export.ManifestJsonl, "the signed manifest exactly as the API serves it");
        }
    }

    [Fact]
    public async Task TheUpkeepQueuesAPackageWhoseJobWasLostAgainAndExpiresOnesWhoseDownloadTimeIsOver()
    {
        var (job, requester) = await JobWithClipsAsync();
        using var started = await requester.SubmitAsync($"/Jobs/{job.Id}/Datasets?handler=Start", ("use", "speech-recognition"));
        var exportId = await app.WithDbAsync(db => db.Set<DatasetExport>().Where(e => e.JobId == job.Id).Select(e => e.Id).SingleAsync());
        var requestedAt = await app.WithDbAsync(db => db.Set<DatasetPackage>().Where(p => p.ExportId == exportId).Select(p => p.RequestedAt).SingleAsync());

        (await SweepAsync(requestedAt.AddMinutes(1))).ShouldBe(0, "its job may still be on its way");
        (await SweepAsync(requestedAt.AddMinutes(3))).ShouldBeGreaterThanOrEqualTo(1);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            (await scope.ServiceProvider.GetRequiredService<DatasetPackages>().PrepareAsync(exportId, default)).ShouldBeTrue();
        }
        var ready = await app.WithDbAsync(db => db.Set<DatasetPackage>().AsNoTracking().SingleAsync(p => p.ExportId == exportId));
        await SweepAsync(ready.ExpiresAt!.Value.AddSeconds(1));

        (await app.WithDbAsync(db => db.Set<DatasetPackage>().AsNoTracking().SingleAsync(p => p.ExportId == exportId))).State.ShouldBe(DatasetPackageState.Expired);
        using var download = await requester.GetAsync($"/Jobs/{job.Id}/Datasets?handler=Download&exportId={exportId}");
        download.StatusCode.ShouldBe(HttpStatusCode.Gone);
    }

    private async Task<int> SweepAsync(DateTimeOffset now)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var packages = new DatasetPackages(services.GetRequiredService<Crowd.Server.Infrastructure.Database.CrowdDb>(),
            services.GetRequiredService<DatasetExporter>(), services.GetRequiredService<DatasetSigningKeys>(),
            services.GetRequiredService<Crowd.Server.Infrastructure.Scheduling.BackgroundJobs>(), new FakeTimeProvider(now),
            services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Crowd.Server.Infrastructure.CrowdOptions>>(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<DatasetPackages>.Instance);
        return await packages.SweepAsync(default);
    }

    [Fact]
    public async Task AJobWithNothingQualifyingGetsAnExplanationAndNoExport()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 2);
        var requester = await OwnerAsync(job);
        var speaker = await RecordingTestData.ContributorAsync(app);
        var consent = await ExportTestData.ConsentAsync(app, job, speaker.Id);
        await ExportTestData.ClipAsync(app, job, speaker.Id, consent, 0, new ClipSpec(ClipReview.Waiting));

        var page = await requester.GetPageAsync($"/Jobs/{job.Id}/Datasets");
        using var started = await requester.SubmitAsync($"/Jobs/{job.Id}/Datasets?handler=Start", ("use", "speech-recognition"));

        page.ShouldContain("0 clips qualify.");
        page.ShouldContain("No clip of this job can be exported for speech-recognition yet");
        page.ShouldNotContain("data-testid=\"start-export\"");
        started.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await started.Content.ReadAsStringAsync()).ShouldContain("No clip of this job can be exported for speech-recognition yet");
        (await app.WithDbAsync(db => db.Set<DatasetExport>().AnyAsync(e => e.JobId == job.Id))).ShouldBeFalse();
    }

    [Fact]
    public async Task AnUndeclaredUseIsRefusedByName()
    {
        var (job, requester) = await JobWithClipsAsync();

        using var response = await requester.GetAsync($"/Jobs/{job.Id}/Datasets?use=marketing");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).ShouldContain("Declare the use as &quot;speech-recognition&quot; or &quot;voice-cloning&quot;.");
    }

    [Fact]
    public async Task AnotherOrganisationsJobAndDownloadAreNotFound()
    {
        var (job, requester) = await JobWithClipsAsync();
        using var started = await requester.SubmitAsync($"/Jobs/{job.Id}/Datasets?handler=Start", ("use", "speech-recognition"));
        var exportId = await app.WithDbAsync(db => db.Set<DatasetExport>().Where(e => e.JobId == job.Id).Select(e => e.Id).SingleAsync());
        var other = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Requester,
            organisationId: await app.CreateOrganisationAsync(OrganisationKind.Requester))).Email!);

        using var page = await other.GetAsync($"/Jobs/{job.Id}/Datasets");
        using var download = await other.GetAsync($"/Jobs/{job.Id}/Datasets?handler=Download&exportId={exportId}");
        using var start = await other.PostFormAsync($"/Jobs/{job.Id}/Datasets?handler=Start",
            PageForms.TokenIn(await other.GetPageAsync("/Jobs")), ("use", "speech-recognition"));

        page.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        download.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        start.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await app.WithDbAsync(db => db.Set<DatasetExport>().CountAsync(e => e.JobId == job.Id))).ShouldBe(1);
    }

    private async Task<(TestJob Job, HttpClient Requester)> JobWithClipsAsync()
    {
        var job = await ExportTestData.JobWithEveryExclusionAsync(app);
        return (job, await OwnerAsync(job));
    }

    private async Task<HttpClient> OwnerAsync(TestJob job) => await app.SignedInClientAsync(await ExportTestData.OwnerEmailAsync(app, job));

    private static string Figure(string html, string testId)
    {
        var start = html.IndexOf($"data-testid=\"{testId}\">", StringComparison.Ordinal);
        start.ShouldBeGreaterThan(0, testId);
        start = html.IndexOf('>', start) + 1;
        return html[start..html.IndexOf('<', start)];
    }
}
