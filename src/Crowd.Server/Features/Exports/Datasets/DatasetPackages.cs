using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Crowd.Server.Features.Exports.Contributor;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Scheduling;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Exports.Datasets;

/// <summary>How many clips of a job a dataset for a use would carry, and how many are left out for each reason.</summary>
public sealed record DatasetEligibility(DatasetUse Use, bool UseAsked, int Qualifying, int NotAccepted, int Withdrawn, int UseNotCovered)
{
    public int Total => Qualifying + NotAccepted + Withdrawn + UseNotCovered;
}

public sealed record PackageOutcome(DatasetOutcomeKind Kind, DatasetPackage? Package = null);

/// <summary>
/// A dataset export for the browser: the same export as the API and the CLI (<see cref="DatasetExporter.CreateAsync"/>),
/// then one ZIP to download. Preparing it reads and checks every clip from the vault in the background, with its progress
/// on the <see cref="DatasetPackage"/> row; no ZIP is stored. Each download writes the ZIP again from the vault, so a clip
/// withdrawn since the export is never in it.
/// </summary>
public sealed class DatasetPackages(
    CrowdDb db, DatasetExporter exporter, DatasetSigningKeys signingKeys, BackgroundJobs jobs, TimeProvider clock,
    IOptions<CrowdOptions> options, ILogger<DatasetPackages> logger)
{
    private static readonly JsonSerializerOptions s_keysJson = new(DatasetManifest.Json) { WriteIndented = true };
    /// <summary>How long a waiting package may go unclaimed before the sweep assumes its job was lost.</summary>
    private static readonly TimeSpan s_sweepGrace = TimeSpan.FromMinutes(2);
    private readonly ExportOptions _options = options.Value.Exports;

    /// <summary>The clips of a job counted by <see cref="DatasetRules.Exclusion"/> for a use; null when the job is not the organisation's.</summary>
    public async Task<DatasetEligibility?> EligibilityAsync(Guid organisationId, Guid jobId, DatasetUse use, CancellationToken ct)
    {
        if (!await db.Jobs.AnyAsync(j => j.Id == jobId && j.OrganisationId == organisationId, ct))
        {
            return null;
        }
        var asked = await db.JobVersions.Where(v => v.JobId == jobId)
            .AnyAsync(v => use == DatasetUse.VoiceCloning ? v.PurposeVoiceCloning : v.PurposeSpeechRecognition, ct);
        var facts = await (
                from c in db.Clips.Where(c => c.JobId == jobId)
                from cs in db.Consents.Where(x => x.Id == c.ConsentId).DefaultIfEmpty()
                from v in db.JobVersions.Where(x => x.JobId == cs.JobId && x.Version == cs.JobVersion).DefaultIfEmpty()
                select new ClipConsentFacts(c.ReviewStatus, c.WithdrawnAt != null, c.AudioDestroyedAt != null || c.WrappedKey == null,
                    cs != null && cs.WithdrawnAt != null, cs != null && cs.VoiceCloning, v != null && v.PurposeSpeechRecognition,
                    v != null && v.PurposeVoiceCloning))
            .AsNoTracking().ToListAsync(ct);
        var counts = facts.CountBy(f => DatasetRules.Exclusion(f, use)).ToDictionary();
        int Count(ClipExclusion e) => counts.GetValueOrDefault(e);
        return new DatasetEligibility(use, asked, Count(ClipExclusion.None), Count(ClipExclusion.NotAccepted), Count(ClipExclusion.Withdrawn),
            Count(ClipExclusion.UseNotCovered));
    }

    /// <summary>Makes the export (signed manifest, recipients, audit) and queues its ZIP's preparation.</summary>
    public async Task<PackageOutcome> StartAsync(ExportCaller caller, Guid jobId, DatasetUse use, CancellationToken ct)
    {
        var outcome = await exporter.CreateAsync(caller, jobId, use, ct, options.Value.PublicUrl);
        if (outcome.Kind != DatasetOutcomeKind.Created)
        {
            return new(outcome.Kind);
        }
        var package = new DatasetPackage
        {
            ExportId = outcome.Export!.Id,
            OrganisationId = caller.OrganisationId,
            RequestedByUserId = caller.UserId,
            State = DatasetPackageState.Pending,
            ClipsTotal = outcome.Export.ClipCount,
            RequestedAt = clock.GetUtcNow(),
        };
        db.Add(package);
        await db.SaveChangesAsync(ct);
        db.Entry(package).State = EntityState.Detached;
        jobs.EnqueueAfterCommit<DatasetPackages>(p => p.PrepareAsync(package.ExportId, CancellationToken.None));
        return new(DatasetOutcomeKind.Created, package);
    }

    /// <summary>The organisation's packages of a job, newest first, with their exports' use.</summary>
    public async Task<List<(DatasetPackage Package, string Use)>> OfJobAsync(Guid organisationId, Guid jobId, CancellationToken ct)
    {
        var rows = await (from p in db.Set<DatasetPackage>().AsNoTracking()
                          join e in db.Set<DatasetExport>() on p.ExportId equals e.Id
                          where p.OrganisationId == organisationId && e.JobId == jobId
                          orderby p.RequestedAt descending
                          select new { Package = p, Use = e.DatasetUse })
            .Take(20).ToListAsync(ct);
        return rows.Select(r => (r.Package, r.Use)).ToList();
    }

    public Task<DatasetPackage?> FindAsync(Guid organisationId, Guid exportId, CancellationToken ct) =>
        db.Set<DatasetPackage>().AsNoTracking().SingleOrDefaultAsync(p => p.ExportId == exportId && p.OrganisationId == organisationId, ct);

    /// <summary>
    /// The background job: claims the package (waiting, or left by a node that stopped reporting), reads every clip of the
    /// export from the vault as a download would, and makes it downloadable. False when there was nothing to claim.
    /// </summary>
    [JobDisplayName("Prepare dataset package {0}")]
    public async Task<bool> PrepareAsync(Guid exportId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var stale = now.AddSeconds(-_options.StaleBuildSeconds);
        var node = $"{Environment.MachineName}:{Environment.ProcessId}";
        var claimed = await db.Database.ExecuteSqlAsync($"""
            UPDATE dataset_packages SET state = {(int)DatasetPackageState.Building}, node = {node}, heartbeat_at = {now}, clips_done = 0
            WHERE export_id = {exportId}
              AND (state = {(int)DatasetPackageState.Pending} OR (state = {(int)DatasetPackageState.Building} AND heartbeat_at < {stale}))
            """, ct);
        if (claimed == 0)
        {
            return false;
        }
        var package = await db.Set<DatasetPackage>().AsNoTracking().SingleAsync(p => p.ExportId == exportId, ct);
        try
        {
            var export = (await exporter.FindAsync(package.OrganisationId, exportId, ct))!;
            var clips = await ClipIdsAsync(export, ct);
            long size = Metadata(export).Sum(f => (long)Encoding.UTF8.GetByteCount(f.Text));
            var done = 0;
            var lastBeat = clock.GetUtcNow();
            foreach (var clipId in clips)
            {
                var read = await exporter.ReadClipAsync(package.OrganisationId, exportId, clipId, ct);
                size += read.Wav?.Length ?? 0;
                done++;
                if (clock.GetUtcNow() - lastBeat >= TimeSpan.FromSeconds(1))
                {
                    lastBeat = clock.GetUtcNow();
                    await db.Set<DatasetPackage>().Where(p => p.ExportId == exportId).ExecuteUpdateAsync(s => s
                        .SetProperty(p => p.ClipsDone, done)
                        .SetProperty(p => p.HeartbeatAt, lastBeat), ct);
                }
            }
            var ready = clock.GetUtcNow();
            await db.Set<DatasetPackage>().Where(p => p.ExportId == exportId).ExecuteUpdateAsync(s => s
                .SetProperty(p => p.State, DatasetPackageState.Ready)
                .SetProperty(p => p.ClipsDone, clips.Count)
                .SetProperty(p => p.ClipsTotal, clips.Count)
                .SetProperty(p => p.SizeBytes, size)
                .SetProperty(p => p.FileName, $"dataset-{export.DatasetUse}-{ready:yyyyMMdd-HHmm}.zip")
                .SetProperty(p => p.HeartbeatAt, ready)
                .SetProperty(p => p.ReadyAt, ready)
                .SetProperty(p => p.ExpiresAt, ready.AddHours(_options.DownloadHours)), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Dataset package {ExportId} failed", exportId);
            await db.Set<DatasetPackage>().Where(p => p.ExportId == exportId).ExecuteUpdateAsync(s => s
                .SetProperty(p => p.State, DatasetPackageState.Failed)
                .SetProperty(p => p.Failure, e.GetType().Name), ct);
        }
        return true;
    }

    /// <summary>
    /// Upkeep: queues again a package whose job was lost (still waiting after a grace period, or building on a node that
    /// stopped reporting), and marks as expired a ready package whose download time is over. Returns how many it queued.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var (waiting, stale) = (now - s_sweepGrace, now.AddSeconds(-_options.StaleBuildSeconds));
        await db.Set<DatasetPackage>().Where(p => p.State == DatasetPackageState.Ready && p.ExpiresAt <= now)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.State, DatasetPackageState.Expired), ct);
        var lost = await db.Set<DatasetPackage>().AsNoTracking()
            .Where(p => (p.State == DatasetPackageState.Pending && p.RequestedAt < waiting)
                        || (p.State == DatasetPackageState.Building && p.HeartbeatAt < stale))
            .Select(p => p.ExportId).ToListAsync(ct);
        foreach (var exportId in lost)
        {
            jobs.EnqueueAfterCommit<DatasetPackages>(p => p.PrepareAsync(exportId, CancellationToken.None));
        }
        return lost.Count;
    }

    /// <summary>Whether the package can be downloaded now: ready and its download time not over.</summary>
    public bool Downloadable(DatasetPackage package) =>
        package is { State: DatasetPackageState.Ready, ExpiresAt: { } until } && clock.GetUtcNow() < until;

    /// <summary>
    /// Writes the ZIP: the signed files and the published keys (so the download can be checked offline with
    /// <c>crowd dataset verify</c>), then every clip still readable, decrypted from the vault one at a time.
    /// </summary>
    public async Task DownloadAsync(DatasetPackage package, Stream output, CancellationToken ct)
    {
        var export = (await exporter.FindAsync(package.OrganisationId, package.ExportId, ct))!;
        var keys = JsonSerializer.Serialize(await signingKeys.PublishedAsync(ct), s_keysJson);
        await using var response = new SmallSyncWritesHeldBack(output);
        await using (var zip = new ZipArchive(response, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, text) in Metadata(export).Append((DatasetSignature.KeysFile, keys)))
            {
                await using var entry = await zip.CreateEntry(name, CompressionLevel.Optimal).OpenAsync(ct);
                await entry.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
            }
            foreach (var clipId in await ClipIdsAsync(export, ct))
            {
                var read = await exporter.ReadClipAsync(package.OrganisationId, package.ExportId, clipId, ct);
                if (read.Kind != ClipReadKind.Ok)
                {
                    continue;
                }
                // WAV is PCM: compressing it costs time and saves little.
                await using var entry = await zip.CreateEntry(DatasetManifest.FileOf(clipId), CompressionLevel.NoCompression).OpenAsync(ct);
                await entry.WriteAsync(read.Wav, ct);
            }
        }
        await response.FlushAsync(ct);
    }

    private static IEnumerable<(string Name, string Text)> Metadata(DatasetExport export) =>
    [
        (DatasetManifest.JsonlFile, export.ManifestJsonl), (DatasetManifest.TsvFile, export.ManifestTsv), (DatasetSignature.SignatureFile, export.Signature),
        (DatasetDocuments.CroissantFile, export.CroissantJson), (DatasetDocuments.DatasheetFile, export.DatasheetMd),
    ];

    /// <summary>The clips the export went out with (its recipients' rows).</summary>
    private Task<List<Guid>> ClipIdsAsync(DatasetExport export, CancellationToken ct) =>
        db.ClipRecipients.AsNoTracking().Where(r => r.ExportId == export.Id).OrderBy(r => r.ClipId).Select(r => r.ClipId).ToListAsync(ct);
}

/// <summary>The dataset packages' upkeep; the work is in <see cref="DatasetPackages.SweepAsync"/>.</summary>
public sealed class DatasetPackagesJob(DatasetPackages packages) : IScheduledJob
{
    public const string Name = "dataset-packages";

    public Task RunAsync(DateTimeOffset scheduledFor, CancellationToken ct) => packages.SweepAsync(ct);
}
