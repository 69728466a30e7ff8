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
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crowd.Server.Features.Exports.Contributor;

/// <summary>Wakes the export worker on this node when a contributor asks for an export, instead of waiting for its next poll.</summary>
public sealed class ContributorExportSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0);

    public void Dispose() => _signal.Dispose();

    public void Raise() => _signal.Release();

    public Task WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}

/// <summary>Requests, builds (ZIP of decrypted recordings and JSON), hands out and expires contributors' data exports.</summary>
public sealed class ContributorExports(
    CrowdDb db, ClipVault vault, ClipPaths paths, AuditLog audit, Notifications.Notifications notifications, TimeProvider clock,
    IOptions<CrowdOptions> options, IDataProtectionProvider protection, ContributorExportSignal signal, ILogger<ContributorExports> logger)
{
    private static readonly JsonSerializerOptions s_json = new(DatasetManifest.Json) { WriteIndented = true };
    private readonly ExportOptions _options = options.Value.Exports;
    private readonly ITimeLimitedDataProtector _tokens = protection.CreateProtector("Crowd.ContributorExport.Download.v1").ToTimeLimitedDataProtector();

    public string Directory => Path.Combine(paths.DataDirectory, "exports");

    /// <summary>Queues an export unless one is already waiting or being built; returns the open one either way.</summary>
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
        signal.Raise();
        return export;
    }

    public Task<ContributorExport?> LatestAsync(Guid contributorId, CancellationToken ct) =>
        db.Set<ContributorExport>().AsNoTracking().Where(e => e.ContributorId == contributorId)
            .OrderByDescending(e => e.RequestedAt).FirstOrDefaultAsync(ct);

    private Task<ContributorExport?> OpenAsync(Guid contributorId, CancellationToken ct) =>
        db.Set<ContributorExport>().AsNoTracking()
            .FirstOrDefaultAsync(e => e.ContributorId == contributorId && (e.State == ContributorExportState.Pending || e.State == ContributorExportState.Building), ct);

    /// <summary>Claims the oldest waiting export (or one whose builder stopped beating) and builds it. False when none was waiting.</summary>
    public async Task<bool> BuildNextAsync(string node, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var stale = now.AddSeconds(-_options.StaleBuildSeconds);
        // SKIP LOCKED: several nodes claim at once without waiting for each other or taking the same row.
        var claimed = await db.Database.SqlQuery<Guid>($"""
            UPDATE contributor_exports SET state = {(int)ContributorExportState.Building}, node = {node}, heartbeat_at = {now}, items_done = 0
            WHERE id = (SELECT id FROM contributor_exports
                        WHERE state = {(int)ContributorExportState.Pending} OR (state = {(int)ContributorExportState.Building} AND heartbeat_at < {stale})
                        ORDER BY requested_at FOR UPDATE SKIP LOCKED LIMIT 1)
            RETURNING id AS "Value"
            """).ToListAsync(ct);
        if (claimed.Count == 0)
        {
            return false;
        }
        var id = claimed[0];
        var export = await db.Set<ContributorExport>().AsNoTracking().SingleAsync(e => e.Id == id, ct);
        var temporary = Path.Combine(Directory, $"{id:N}.zip.partial");
        try
        {
            await BuildAsync(export, temporary, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Contributor export {ExportId} failed", id);
            File.Delete(temporary);
            await db.Set<ContributorExport>().Where(x => x.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(x => x.State, ContributorExportState.Failed)
                .SetProperty(x => x.Failure, e.GetType().Name), ct);
        }
        return true;
    }

    private async Task BuildAsync(ContributorExport export, string temporary, CancellationToken ct)
    {
        var who = export.ContributorId;
        var clips = await db.Clips.AsNoTracking().Where(c => c.ContributorId == who).OrderBy(c => c.CreatedAt)
            .Join(db.Prompts, c => c.PromptId, p => p.Id, (c, p) => new { Clip = c, Prompt = p.Text })
            .Join(db.Jobs, x => x.Clip.JobId, j => j.Id, (x, j) => new { x.Clip, x.Prompt, JobTitle = j.Title })
            .ToListAsync(ct);
        var consents = await db.Consents.AsNoTracking().Where(c => c.ContributorId == who).OrderBy(c => c.GivenAt)
            .Join(db.Jobs, c => c.JobId, j => j.Id, (c, j) => new { Consent = c, j.Title, j.BuyerName })
            .Join(db.JobVersions, x => new { x.Consent.JobId, Version = x.Consent.JobVersion }, v => new { v.JobId, v.Version },
                (x, v) => new { x.Consent, x.Title, x.BuyerName, v.TermsJson })
            .ToListAsync(ct);
        var earnings = await EarningsReport.ForContributorAsync(db, who, ct);
        var payouts = await db.Set<Payout>().AsNoTracking().Where(p => p.ContributorId == who).OrderBy(p => p.CreatedAt).ToListAsync(ct);

        var readable = clips.Where(c => c.Clip.WrappedKey is not null && c.Clip.AudioDestroyedAt is null).ToList();
        var total = readable.Count + 4;
        await ProgressAsync(export.Id, 0, total, ct);

        System.IO.Directory.CreateDirectory(Directory);
        var included = new HashSet<Guid>();
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        await using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
        {
            var done = 0;
            var lastBeat = clock.GetUtcNow();
            foreach (var item in readable)
            {
                var wav = await vault.ReadAsync(item.Clip, ct);
                if (wav is not null)
                {
                    // WAV barely compresses; storing it keeps the build fast.
                    var entry = zip.CreateEntry(RecordingPath(item.Clip), CompressionLevel.NoCompression);
                    await using (var stream = await entry.OpenAsync(ct))
                    {
                        await stream.WriteAsync(wav, ct);
                    }
                    included.Add(item.Clip.Id);
                }
                done++;
                if (clock.GetUtcNow() - lastBeat >= TimeSpan.FromSeconds(1))
                {
                    lastBeat = clock.GetUtcNow();
                    await ProgressAsync(export.Id, done, total, ct);
                }
            }

            await WriteJsonAsync(zip, "clips.json", clips.Select(c => new
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
            await WriteJsonAsync(zip, "consents.json", consents.Select(c => new
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
            await WriteJsonAsync(zip, "earnings.json", new { jobs = earnings.Jobs, totals = earnings.Totals }, ct);
            await WriteJsonAsync(zip, "payouts.json", payouts.Select(p => new
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

        var fileName = $"{export.Id:N}.zip";
        File.Move(temporary, Path.Combine(Directory, fileName), overwrite: true);
        var now = clock.GetUtcNow();
        var size = new FileInfo(Path.Combine(Directory, fileName)).Length;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Set<ContributorExport>().Where(x => x.Id == export.Id).ExecuteUpdateAsync(s => s
            .SetProperty(x => x.State, ContributorExportState.Ready)
            .SetProperty(x => x.ItemsDone, total)
            .SetProperty(x => x.ItemsTotal, total)
            .SetProperty(x => x.SizeBytes, size)
            .SetProperty(x => x.FileName, fileName)
            .SetProperty(x => x.HeartbeatAt, now)
            .SetProperty(x => x.ReadyAt, now)
            .SetProperty(x => x.ExpiresAt, now.AddHours(_options.DownloadHours)), ct);
        var details = JsonSerializer.Serialize(new
        {
            recordings = included.Count,
            clipIdsSha256 = DatasetExporter.ClipIdsHash(included.Order()),
            consents = consents.Count,
            payouts = payouts.Count,
            sizeBytes = size,
        }, DatasetManifest.Json);
        await audit.AppendAsync(new AuditEvent("user", who, "contributor_export.created", "contributor_export", export.Id.ToString(),
            "contributor export", details), ct);
        // One entry for the whole run (the count and a hash of the clip ids), not one per recording.
        await audit.AppendAsync(new AuditEvent("user", who, "audio.read", "contributor_export", export.Id.ToString(), "contributor export", details), ct);
        await notifications.NotifyAsync(export.ContributorId, NotificationKind.ExportReady,
            new NotificationData { Until = now.AddHours(_options.DownloadHours) }, ct);
        await tx.CommitAsync(ct);
    }

    private Task<int> ProgressAsync(Guid id, int done, int total, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return db.Set<ContributorExport>().Where(x => x.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(x => x.ItemsDone, done)
            .SetProperty(x => x.ItemsTotal, total)
            .SetProperty(x => x.HeartbeatAt, now), ct);
    }

    /// <summary>Deletes the files of exports whose download time is over; returns how many.</summary>
    public async Task<int> ExpireAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var due = await db.Set<ContributorExport>().AsNoTracking()
            .Where(e => e.State == ContributorExportState.Ready && e.ExpiresAt <= now).ToListAsync(ct);
        foreach (var export in due)
        {
            if (export.FileName is not null)
            {
                File.Delete(Path.Combine(Directory, export.FileName));
            }
            await db.Set<ContributorExport>().Where(x => x.Id == export.Id && x.State == ContributorExportState.Ready)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.State, ContributorExportState.Expired).SetProperty(x => x.FileName, (string?)null), ct);
        }
        return due.Count;
    }

    /// <summary>A download token for a ready export, valid until the export expires.</summary>
    public string TokenFor(ContributorExport export) => _tokens.Protect(export.Id.ToString("N"), export.ExpiresAt!.Value);

    /// <summary>The file to send for a token, or null when the token is not this contributor's, was altered or has expired.</summary>
    public async Task<(ContributorExport Export, string Path)?> ResolveAsync(Guid contributorId, string? token, CancellationToken ct)
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
        if (export is not { State: ContributorExportState.Ready, FileName: not null } || export.ExpiresAt <= clock.GetUtcNow())
        {
            return null;
        }
        var path = Path.Combine(Directory, export.FileName);
        return File.Exists(path) ? (export, path) : null;
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
}

/// <summary>Builds waiting contributor exports on any node (rows are claimed with SKIP LOCKED) and deletes expired files.</summary>
public sealed class ContributorExportWorker(IServiceScopeFactory scopes, ContributorExportSignal signal, IOptions<CrowdOptions> options,
    ILogger<ContributorExportWorker> logger) : BackgroundService
{
    private readonly string _node = $"{Environment.MachineName}:{Environment.ProcessId}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromSeconds(options.Value.Exports.PollSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var exports = scope.ServiceProvider.GetRequiredService<ContributorExports>();
                while (await exports.BuildNextAsync(_node, stoppingToken))
                {
                }
                await exports.ExpireAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is DbUpdateException or NpgsqlException or IOException or InvalidOperationException)
            {
                logger.LogWarning(e, "Contributor export round failed; trying again at the next poll");
            }
            try
            {
                await signal.WaitAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
