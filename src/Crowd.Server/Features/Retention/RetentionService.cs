using System.Text.Json;
using Crowd.Server.Features.DeletionNotices;
using Crowd.Server.Features.Withdrawal;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Crowd.Server.Infrastructure.Scheduling;

namespace Crowd.Server.Features.Retention;

public sealed record RetentionRun(int ClipsDestroyed, int NoticesSent, int FilesDeleted);

/// <summary>
/// Destroys the audio of every clip past its <see cref="RetentionRule"/> date, in batches, through the same
/// crypto-shredding path as a withdrawal (keys gone, files deleted, audited, exporters told). Running it again finds
/// nothing new to do; it also retries clip files whose deletion failed earlier.
/// </summary>
public sealed class RetentionService(CrowdDb db, ClipDestruction destruction, ClipFiles files, TimeProvider clock,
    IOptions<CrowdOptions> options, ILogger<RetentionService> logger)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private sealed record DueClip(Guid ClipId, Guid JobId, string StorageKey, bool HasKey, DateTimeOffset CreatedAt, int RetentionDays, DateTimeOffset LastInteraction);

    public async Task<RetentionRun> RunAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var batch = options.Value.Retention.BatchSize;
        int destroyed = 0, notices = 0;
        while (true)
        {
            List<ClipToDestroy> clips;
            await using (var tx = await db.Database.BeginTransactionAsync(ct))
            {
                var due = await DueAsync(now, batch, ct);
                if (due.Count == 0)
                {
                    break;
                }
                clips = due.Select(d =>
                {
                    var (at, limit) = RetentionRule.DestroyAfter(d.CreatedAt, d.RetentionDays, d.LastInteraction);
                    var details = JsonSerializer.Serialize(new
                    {
                        jobId = d.JobId,
                        rule = limit == RetentionLimit.JobRetention ? $"job retention of {d.RetentionDays} days" : $"{RetentionRule.InactivityYears} years after the last interaction",
                        destroyAfter = at,
                        lastInteraction = d.LastInteraction,
                    }, s_json);
                    return new ClipToDestroy(d.ClipId, d.JobId, d.StorageKey, d.HasKey, details);
                }).ToList();
                notices += await destruction.DestroyAsync(clips, DeletionReason.Retention, Actor.System, ct);
                await tx.CommitAsync(ct);
            }
            destroyed += clips.Count;
            await files.DeleteAsync(clips.Select(c => c.ClipId), ct);
        }
        var swept = await files.SweepAsync(batch, ct);
        if (destroyed > 0 || swept > 0)
        {
            logger.LogInformation("Retention: destroyed the audio of {Clips} clips, sent {Notices} deletion notices, deleted {Files} leftover files",
                destroyed, notices, swept);
        }
        return new RetentionRun(destroyed, notices, swept);
    }

    // The rule of RetentionRule.DestroyAfter, in SQL: job retention counted in whole days of 24 hours, three calendar
    // years in UTC, whichever comes first.
    private Task<List<DueClip>> DueAsync(DateTimeOffset now, int batch, CancellationToken ct) =>
        db.Database.SqlQuery<DueClip>($"""
        WITH last AS (
            SELECT u.id AS contributor_id, crowd_last_interaction(u.id) AS at
            FROM users u
            WHERE EXISTS (SELECT 1 FROM clips c WHERE c.contributor_id = u.id AND c.audio_destroyed_at IS NULL)
        )
        SELECT c.id AS "ClipId", c.job_id AS "JobId", c.storage_key AS "StorageKey", c.wrapped_key IS NOT NULL AS "HasKey",
               c.created_at AS "CreatedAt", j.retention_days AS "RetentionDays", l.at AS "LastInteraction"
        FROM clips c
        JOIN jobs j ON j.id = c.job_id
        JOIN last l ON l.contributor_id = c.contributor_id
        WHERE c.audio_destroyed_at IS NULL
          AND least(c.created_at + make_interval(hours => j.retention_days * 24),
                    ((l.at AT TIME ZONE 'UTC') + make_interval(years => 3)) AT TIME ZONE 'UTC') <= {now}
        ORDER BY c.created_at, c.id
        LIMIT {batch}
        FOR UPDATE OF c SKIP LOCKED
        """).ToListAsync(ct);
}

/// <summary>The scheduled retention run (daily by default, Crowd:Retention:Cron); one node runs each fire.</summary>
public sealed class RetentionJob(RetentionService retention) : IScheduledJob
{
    public const string Name = "retention";

    public Task RunAsync(DateTimeOffset scheduledFor, CancellationToken ct) => retention.RunAsync(ct);
}
