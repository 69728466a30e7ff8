using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Crowd.Server.Features.Audit;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Exports.Datasets;
using Crowd.Server.Features.Notifications;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Scheduling;
using Hangfire;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crowd.Server.Features.Exports.Contributor;

/// <summary>
/// A contributor's copy of their own data: requested, prepared by a background job, downloaded for a limited time.
/// The ZIP (decrypted recordings and JSON) is never stored: preparing it writes it into a byte counter, to check every
/// recording and learn its size, and each download writes it again straight from the clip vault into the response. So no
/// recording lies in clear on disk, and a clip withdrawn after the export was prepared is not in any later download.
/// </summary>
public sealed class ContributorExports(
    CrowdDb db, ClipVault vault, ClipPaths paths, AuditLog audit, Notifications.Notifications notifications, BackgroundJobs jobs,
    TimeProvider clock, IOptions<CrowdOptions> options, IDataProtectionProvider protection, ILogger<ContributorExports> logger)
{
    private static readonly JsonSerializerOptions s_json = new(DatasetManifest.Json) { WriteIndented = true };
    /// <summary>How long a waiting export may go unclaimed before the sweep assumes its job was lost.</summary>
    private static readonly TimeSpan s_sweepGrace = TimeSpan.FromMinutes(2);
    private readonly ExportOptions _options = options.Value.Exports;
    private readonly ITimeLimitedDataProtector _tokens = protection.CreateProtector("Crowd.ContributorExport.Download.v1").ToTimeLimitedDataProtector();

    private sealed record Contents(List<ExportClip> Clips, List<ExportConsent> Consents, ContributorEarnings Earnings, List<Payout> Payouts)
    {
        public List<ExportClip> Readable { get; } = Clips.Where(c => c.Clip.WrappedKey is not null && c.Clip.AudioDestroyedAt is null && c.Clip.WithdrawnAt is null).ToList();

        public int Items => Readable.Count + 4;
    }

    private sealed record ExportClip(Clip Clip, string Prompt, string JobTitle);

    private sealed record ExportConsent(Recording.Consent.ConsentRecord Consent, string Title, string BuyerName, string TermsJson);

    /// <summary>Queues an export unless one is already waiting or being prepared; returns the open one either way.</summary>
    public async Task<ContributorExport> RequestAsync(Guid contributorId, CancellationToken ct)
    {
        var open = await OpenAsync(contributorId, ct);
        if (open is not null)
        {
            return open;
        }
        var export = new ContributorExport
        {
            Id = Guid.CreateVersion7(),
            ContributorId = contributorId,
            State = ContributorExportState.Pending,
            RequestedAt = clock.GetUtcNow(),
        };
        db.Add(export);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // A second click in another tab won the race: theirs is the open one.
            db.Entry(export).State = EntityState.Detached;
            return (await OpenAsync(contributorId, ct))!;
        }
        Enqueue(export.Id);
        return export;
    }

    public Task<ContributorExport?> LatestAsync(Guid contributorId, CancellationToken ct) =>
        db.Set<ContributorExport>().AsNoTracking().Where(e => e.ContributorId == contributorId)
            .OrderByDescending(e => e.RequestedAt).FirstOrDefaultAsync(ct);

    private Task<ContributorExport?> OpenAsync(Guid contributorId, CancellationToken ct) =>
        db.Set<ContributorExport>().AsNoTracking()
            .FirstOrDefaultAsync(e => e.ContributorId == contributorId && (e.State == ContributorExportState.Pending || e.State == ContributorExportState.Building), ct);

    private void Enqueue(Guid exportId) => jobs.EnqueueAfterCommit<ContributorExports>(x => x.PrepareAsync(exportId, CancellationToken.None));

    /// <summary>
    /// The background job: claims the export (waiting, or left by a node that stopped reporting progress), reads and checks
    /// every recording through a ZIP written into a byte counter, and makes the export downloadable. False when the export
    /// was not there to claim (already prepared, or being prepared elsewhere).
    /// </summary>
    [JobDisplayName("Prepare contributor export {0}")]
    public async Task<bool> PrepareAsync(Guid exportId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var stale = now.AddSeconds(-_options.StaleBuildSeconds);
        var node = $"{Environment.MachineName}:{Environment.ProcessId}";
        var claimed = await db.Database.ExecuteSqlAsync($"""
            UPDATE contributor_exports SET state = {(int)ContributorExportState.Building}, node = {node}, heartbeat_at = {now}, items_done = 0
            WHERE id = {exportId}
              AND (state = {(int)ContributorExportState.Pending} OR (state = {(int)ContributorExportState.Building} AND heartbeat_at < {stale}))
            """, ct);
        if (claimed == 0)
        {
            return false;
        }
        var export = await db.Set<ContributorExport>().AsNoTracking().SingleAsync(e => e.Id == exportId, ct);
        try
        {
            await PrepareClaimedAsync(export, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Contributor export {ExportId} failed", exportId);
            await db.Set<ContributorExport>().Where(x => x.Id == exportId).ExecuteUpdateAsync(s => s
                .SetProperty(x => x.State, ContributorExportState.Failed)
                .SetProperty(x => x.Failure, e.GetType().Name), ct);
        }
        return true;
    }

    private async Task PrepareClaimedAsync(ContributorExport export, CancellationToken ct)
    {
        var contents = await ContentsAsync(export.ContributorId, ct);
        await ProgressAsync(export.Id, 0, contents.Items, ct);
        var lastBeat = clock.GetUtcNow();
        await using var counter = new ByteCounter();
        var included = await WriteZipAsync(contents, counter, async done =>
        {
            if (clock.GetUtcNow() - lastBeat >= TimeSpan.FromSeconds(1))
            {
                lastBeat = clock.GetUtcNow();
                await ProgressAsync(export.Id, done, contents.Items, ct);
            }
        }, ct);

        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Set<ContributorExport>().Where(x => x.Id == export.Id).ExecuteUpdateAsync(s => s
            .SetProperty(x => x.State, ContributorExportState.Ready)
            .SetProperty(x => x.ItemsDone, contents.Items)
            .SetProperty(x => x.ItemsTotal, contents.Items)
            .SetProperty(x => x.SizeBytes, counter.Length)
            .SetProperty(x => x.HeartbeatAt, now)
            .SetProperty(x => x.ReadyAt, now)
            .SetProperty(x => x.ExpiresAt, now.AddHours(_options.DownloadHours)), ct);
        await audit.AppendAsync(new AuditEvent("user", export.ContributorId, "contributor_export.created", "contributor_export", export.Id.ToString(),
            "contributor export", Details(included, contents, counter.Length)), ct);
        await notifications.NotifyAsync(export.ContributorId, NotificationKind.ExportReady,
            new NotificationData { Until = now.AddHours(_options.DownloadHours) }, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// Writes the export's ZIP into <paramref name="output"/> as the data stands now: recordings decrypted from the vault
    /// one at a time, then the JSON files. Every recording read is one audited read (the count and a hash of the clip ids).
    /// </summary>
    public async Task DownloadAsync(ContributorExport export, Stream output, CancellationToken ct)
    {
        var contents = await ContentsAsync(export.ContributorId, ct);
        await using var response = new SmallSyncWritesHeldBack(output);
        var included = await WriteZipAsync(contents, response, _ => Task.CompletedTask, ct);
        await response.FlushAsync(ct);
        await audit.AppendAsync(new AuditEvent("user", export.ContributorId, "audio.read", "contributor_export", export.Id.ToString(),
            "contributor export", Details(included, contents, null)), ct);
    }

    private static string Details(HashSet<Guid> included, Contents contents, long? size) => JsonSerializer.Serialize(new
    {
        recordings = included.Count,
        clipIdsSha256 = DatasetExporter.ClipIdsHash(included.Order()),
        consents = contents.Consents.Count,
        payouts = contents.Payouts.Count,
        sizeBytes = size,
    }, DatasetManifest.Json);

    private async Task<Contents> ContentsAsync(Guid who, CancellationToken ct)
    {
        var clips = await db.Clips.AsNoTracking().Where(c => c.ContributorId == who).OrderBy(c => c.CreatedAt)
            .Join(db.Prompts, c => c.PromptId, p => p.Id, (c, p) => new { Clip = c, Prompt = p.Text })
            .Join(db.Jobs, x => x.Clip.JobId, j => j.Id, (x, j) => new ExportClip(x.Clip, x.Prompt, j.Terms.Title))
            .ToListAsync(ct);
        var consents = await db.Consents.AsNoTracking().Where(c => c.ContributorId == who).OrderBy(c => c.GivenAt)
            .Join(db.Jobs, c => c.JobId, j => j.Id, (c, j) => new { Consent = c, j.Terms.Title, j.Terms.BuyerName })
            .Join(db.JobVersions, x => new { x.Consent.JobId, Version = x.Consent.JobVersion }, v => new { v.JobId, v.Version },
                (x, v) => new ExportConsent(x.Consent, x.Title, x.BuyerName, v.TermsJson))
            .ToListAsync(ct);
        var earnings = await EarningsReport.ForContributorAsync(db, who, ct);
        var payouts = await db.Set<Payout>().AsNoTracking().Where(p => p.ContributorId == who).OrderBy(p => p.CreatedAt).ToListAsync(ct);
        return new Contents(clips, consents, earnings, payouts);
    }

    /// <summary>The ZIP itself; returns the clips whose recording it holds. <paramref name="progress"/> gets the items written so far.</summary>
    private async Task<HashSet<Guid>> WriteZipAsync(Contents contents, Stream output, Func<int, Task> progress, CancellationToken ct)
    {
        var included = new HashSet<Guid>();
        await using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            var done = 0;
            foreach (var item in contents.Readable)
            {
                var wav = await vault.ReadAsync(item.Clip, ct);
                if (wav is not null)
                {
                    // WAV barely compresses; storing it keeps the download fast.
                    var entry = zip.CreateEntry(RecordingPath(item.Clip), CompressionLevel.NoCompression);
                    await using (var stream = await entry.OpenAsync(ct))
                    {
                        await stream.WriteAsync(wav, ct);
                    }
                    included.Add(item.Clip.Id);
                }
                await progress(++done);
            }

            await WriteJsonAsync(zip, "clips.json", contents.Clips.Select(c => new
            {
                clipId = c.Clip.Id,
                jobId = c.Clip.JobId,
                jobTitle = c.JobTitle,
                prompt = c.Prompt,
                recordedAt = c.Clip.CreatedAt,
                durationMs = c.Clip.DurationMs,
                sampleRate = c.Clip.SampleRate,
                sizeBytes = c.Clip.SizeBytes,
                sha256 = c.Clip.Sha256,
                review = c.Clip.ReviewStatus.ToString().ToLowerInvariant(),
                reviewedAt = c.Clip.ReviewedAt,
                withdrawnAt = c.Clip.WithdrawnAt,
                audioDestroyedAt = c.Clip.AudioDestroyedAt,
                consentId = c.Clip.ConsentId,
                file = included.Contains(c.Clip.Id) ? RecordingPath(c.Clip) : null,
                metrics = Json(c.Clip.Metrics),
                verdict = Json(c.Clip.Verdict),
            }), ct);
            await WriteJsonAsync(zip, "consents.json", contents.Consents.Select(c => new
            {
                consentId = c.Consent.Id,
                jobId = c.Consent.JobId,
                jobTitle = c.Title,
                buyer = c.BuyerName,
                jobVersion = c.Consent.JobVersion,
                givenAt = c.Consent.GivenAt,
                withdrawnAt = c.Consent.WithdrawnAt,
                voiceCloning = c.Consent.VoiceCloning,
                termsSha256 = c.Consent.TermsSha256,
                terms = Json(c.TermsJson),
            }), ct);
            await WriteJsonAsync(zip, "earnings.json", new { jobs = contents.Earnings.Jobs, totals = contents.Earnings.Totals }, ct);
            await WriteJsonAsync(zip, "payouts.json", contents.Payouts.Select(p => new
            {
                payoutId = p.Id,
                amount = new Infrastructure.Money.Money(p.AmountMinor, p.Currency),
                provider = p.Provider.ToString().ToLowerInvariant(),
                state = p.State.ToString().ToLowerInvariant(),
                createdAt = p.CreatedAt,
                sentAt = p.SentAt,
                settledAt = p.SettledAt,
                failedAt = p.FailedAt,
                failureReason = p.FailureReason,
            }), ct);
        }
        await progress(contents.Items);
        return included;
    }

    private Task<int> ProgressAsync(Guid id, int done, int total, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return db.Set<ContributorExport>().Where(x => x.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(x => x.ItemsDone, done)
            .SetProperty(x => x.ItemsTotal, total)
            .SetProperty(x => x.HeartbeatAt, now), ct);
    }

    /// <summary>Marks exports whose download time is over as expired; returns how many.</summary>
    public Task<int> ExpireAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return db.Set<ContributorExport>().Where(e => e.State == ContributorExportState.Ready && e.ExpiresAt <= now)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.State, ContributorExportState.Expired), ct);
    }

    /// <summary>Enqueues preparation for exports whose job was lost: waiting too long, or left half-done by a node that stopped.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var waiting = now - s_sweepGrace;
        var stale = now.AddSeconds(-_options.StaleBuildSeconds);
        var ids = await db.Set<ContributorExport>().AsNoTracking()
            .Where(e => (e.State == ContributorExportState.Pending && e.RequestedAt <= waiting)
                        || (e.State == ContributorExportState.Building && e.HeartbeatAt < stale))
            .Select(e => e.Id).ToListAsync(ct);
        foreach (var id in ids)
        {
            Enqueue(id);
        }
        return ids.Count;
    }

    /// <summary>
    /// Earlier versions wrote each export as a ZIP of recordings in clear under the data directory; none may stay.
    /// Returns how many such files were deleted.
    /// </summary>
    public int DeleteLegacyFiles()
    {
        var directory = Path.Combine(paths.DataDirectory, "exports");
        if (!System.IO.Directory.Exists(directory))
        {
            return 0;
        }
        var files = System.IO.Directory.GetFiles(directory);
        foreach (var file in files)
        {
            File.Delete(file);
        }
        System.IO.Directory.Delete(directory);
        logger.LogWarning("Deleted {Count} export files left in clear by an earlier version in {Directory}", files.Length, directory);
        return files.Length;
    }

    /// <summary>A download token for a ready export, valid until the export expires.</summary>
    public string TokenFor(ContributorExport export) => _tokens.Protect(export.Id.ToString("N"), export.ExpiresAt!.Value);

    /// <summary>The export a token stands for, or null when the token is not this contributor's, was altered or has expired.</summary>
    public async Task<ContributorExport?> ResolveAsync(Guid contributorId, string? token, CancellationToken ct)
    {
        Guid id;
        try
        {
            id = Guid.ParseExact(_tokens.Unprotect(token ?? ""), "N");
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            return null;
        }
        var export = await db.Set<ContributorExport>().AsNoTracking().SingleOrDefaultAsync(e => e.Id == id && e.ContributorId == contributorId, ct);
        return export is { State: ContributorExportState.Ready } && export.ExpiresAt > clock.GetUtcNow() ? export : null;
    }

    private static string RecordingPath(Clip clip) => $"recordings/{clip.JobId:D}/{clip.Id:D}.wav";

    private static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(string.IsNullOrWhiteSpace(text) ? "{}" : text);
        return document.RootElement.Clone();
    }

    private static async Task WriteJsonAsync<T>(ZipArchive zip, string name, T value, CancellationToken ct)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        await using var stream = await entry.OpenAsync(ct);
        await JsonSerializer.SerializeAsync(stream, value, s_json, ct);
    }

    /// <summary>A write-only stream that keeps nothing but the number of bytes written to it.</summary>
    private sealed class ByteCounter : Stream
    {
        private long _length;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => _length += count;
        public override void Write(ReadOnlySpan<byte> buffer) => _length += buffer.Length;
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _length += buffer.Length;
            return ValueTask.CompletedTask;
        }
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            _length += count;
            return Task.CompletedTask;
        }
        public override void Flush()
        {
        }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

/// <summary>
/// ZipArchive writes a few small records (an entry's data descriptor, when the output cannot seek) with synchronous
/// writes, which an HTTP response refuses. This holds those bytes back and sends them, in order, with the next
/// asynchronous write or flush; the recordings themselves pass straight through.
/// </summary>
internal sealed class SmallSyncWritesHeldBack(Stream inner) : Stream
{
    private readonly MemoryStream _held = new();

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => _held.Write(buffer, offset, count);
    public override void Write(ReadOnlySpan<byte> buffer) => _held.Write(buffer);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await SendHeldAsync(cancellationToken);
        await inner.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await SendHeldAsync(cancellationToken);
        await inner.FlushAsync(cancellationToken);
    }

    // Nothing is sent synchronously; FlushAsync sends what is held.
    public override void Flush()
    {
    }

    public override async ValueTask DisposeAsync()
    {
        await SendHeldAsync(CancellationToken.None);
        await _held.DisposeAsync();
        await base.DisposeAsync();
    }

    private async Task SendHeldAsync(CancellationToken ct)
    {
        if (_held.Length > 0)
        {
            await inner.WriteAsync(_held.GetBuffer().AsMemory(0, (int)_held.Length), ct);
            _held.SetLength(0);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>Every quarter hour: expires old exports, re-enqueues those whose job was lost, removes files of earlier versions.</summary>
public sealed class ContributorExportsJob(ContributorExports exports) : IScheduledJob
{
    public const string Name = "contributor-exports";

    public async Task RunAsync(DateTimeOffset scheduledFor, CancellationToken ct)
    {
        exports.DeleteLegacyFiles();
        await exports.ExpireAsync(ct);
        await exports.SweepAsync(ct);
    }
}
