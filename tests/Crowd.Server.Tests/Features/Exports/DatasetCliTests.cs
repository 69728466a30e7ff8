extern alias cli;

using System.Security.Cryptography;
using cli::Crowd.Cli.Datasets;
using Crowd.Server.Tests.Features.Recording;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Exports;

public sealed class DatasetCliTests(ExportsApp app) : IClassFixture<ExportsApp>, IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "crowd-dataset-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Fact]
    public async Task TheCommandExportsAJobIntoADirectoryAndASecondRunResumesWhereTheFirstStopped()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 6);
        var owner = await app.WithDbAsync(db => db.Jobs.Where(j => j.Id == job.Id).Select(j => new { j.OrganisationId, j.CreatedByUserId }).SingleAsync());
        var http = ExportTestData.KeyClient(app, await ExportTestData.ApiKeyAsync(app, owner.OrganisationId, owner.CreatedByUserId));
        var speaker = await RecordingTestData.ContributorAsync(app);
        var consent = await ExportTestData.ConsentAsync(app, job, speaker.Id);
        var clips = new List<Crowd.Server.Features.Recording.Clips.Clip>();
        for (var i = 0; i < 6; i++)
        {
            clips.Add(await ExportTestData.ClipAsync(app, job, speaker.Id, consent, i));
        }
        var output = new StringWriter();

        var first = await new DatasetDownloader(http, new PlainReporter(output)).ExportAsync(job.Id, _out, "speech-recognition", default);

        first.Clips.ShouldBe(6);
        first.Downloaded.ShouldBe(6);
        first.ManifestVerified.ShouldBeTrue();
        foreach (var clip in clips)
        {
            Sha(Path.Combine(_out, "clips", $"{clip.Id:D}.wav")).ShouldBe(clip.Sha256);
        }
        File.Exists(Path.Combine(_out, "manifest.tsv")).ShouldBeTrue();
        output.ToString().ShouldContain("6/6 clips");

        // An interrupted run: one clip cut off half way, one missing, one damaged on disk.
        var cut = Path.Combine(_out, "clips", $"{clips[0].Id:D}.wav");
        var bytes = await File.ReadAllBytesAsync(cut);
        File.Delete(cut);
        await File.WriteAllBytesAsync(cut + ".partial", bytes[..(bytes.Length / 2)]);
        File.Delete(Path.Combine(_out, "clips", $"{clips[1].Id:D}.wav"));
        await File.WriteAllBytesAsync(Path.Combine(_out, "clips", $"{clips[2].Id:D}.wav"), new byte[100]);
        var exportsBefore = await app.WithDbAsync(db => db.ClipRecipients.CountAsync(r => r.OrganisationId == owner.OrganisationId));

        var second = await new DatasetDownloader(http, new PlainReporter(output)).ExportAsync(job.Id, _out, "speech-recognition", default);

        second.ExportId.ShouldBe(first.ExportId, "the same export continues; no second one is made");
        (second.Resumed, second.Downloaded, second.Skipped).ShouldBe((1, 2, 3));
        (await DatasetDownloader.CheckFilesAsync(_out, default)).ShouldBeEmpty();
        File.Exists(cut + ".partial").ShouldBeFalse();
        (await app.WithDbAsync(db => db.ClipRecipients.CountAsync(r => r.OrganisationId == owner.OrganisationId))).ShouldBe(exportsBefore);
    }

    [Fact]
    public async Task AClipWithdrawnBetweenRunsIsNotDownloadedAndIsListedAsWithdrawn()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 2);
        var owner = await app.WithDbAsync(db => db.Jobs.Where(j => j.Id == job.Id).Select(j => new { j.OrganisationId, j.CreatedByUserId }).SingleAsync());
        var http = ExportTestData.KeyClient(app, await ExportTestData.ApiKeyAsync(app, owner.OrganisationId, owner.CreatedByUserId));
        var speaker = await RecordingTestData.ContributorAsync(app);
        var consent = await ExportTestData.ConsentAsync(app, job, speaker.Id);
        var kept = await ExportTestData.ClipAsync(app, job, speaker.Id, consent, 0);
        var withdrawn = await ExportTestData.ClipAsync(app, job, speaker.Id, consent, 1);
        var output = new StringWriter();
        await new DatasetDownloader(http, new PlainReporter(output)).ExportAsync(job.Id, _out, "speech-recognition", default);
        File.Delete(Path.Combine(_out, "clips", $"{withdrawn.Id:D}.wav"));
        await app.WithDbAsync(db => db.Clips.Where(c => c.Id == withdrawn.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.WithdrawnAt, DateTimeOffset.UtcNow)));

        var again = await new DatasetDownloader(http, new PlainReporter(output)).ExportAsync(job.Id, _out, "speech-recognition", default);

        (again.Skipped, again.Withdrawn).ShouldBe((1, 1));
        File.Exists(Path.Combine(_out, "clips", $"{withdrawn.Id:D}.wav")).ShouldBeFalse();
        (await File.ReadAllTextAsync(Path.Combine(_out, "withdrawn.txt"))).Trim().ShouldBe(withdrawn.Id.ToString("D"));
        output.ToString().ShouldContain("withdrawn by their speakers");
        Sha(Path.Combine(_out, "clips", $"{kept.Id:D}.wav")).ShouldBe(kept.Sha256);
    }

    [Fact]
    public async Task AnotherOrganisationsJobStopsTheCommandWithTheServersProblem()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 1);
        var theirs = await RecordingTestData.PublishedJobAsync(app, prompts: 1);
        var stranger = await app.WithDbAsync(db => db.Jobs.Where(j => j.Id == theirs.Id).Select(j => new { j.OrganisationId, j.CreatedByUserId }).SingleAsync());
        var http = ExportTestData.KeyClient(app, await ExportTestData.ApiKeyAsync(app, stranger.OrganisationId, stranger.CreatedByUserId));

        var failure = await Should.ThrowAsync<DatasetCliException>(() =>
            new DatasetDownloader(http, new PlainReporter(new StringWriter())).ExportAsync(job.Id, _out, "speech-recognition", default));

        failure.Message.ShouldBe("404 Job not found: No job with this id belongs to your organisation.");
        File.Exists(Path.Combine(_out, DatasetDownloader.StateFile)).ShouldBeFalse();
    }

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
