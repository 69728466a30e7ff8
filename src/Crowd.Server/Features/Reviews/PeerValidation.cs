using System.Text.Json;
using Crowd.Server.Features.Audit;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crowd.Server.Features.Reviews;

/// <summary>The next clip a validator is asked to judge.</summary>
public sealed record ValidationClip(Guid ClipId, string PromptText, int DurationMs);

/// <summary>
/// Peer validation, Common Voice style: contributors with a live consent to a job that asks for it listen to other
/// speakers' waiting clips and vote. Two agreeing votes decide (see <see cref="ReviewRules.Verdict"/>). Their time is
/// paid like recording time: a validation session keeps an active-time clock (the recorder's idle cut-off) and its
/// cumulative time goes through the same <see cref="EarningsAccrual"/> as a recording session's checkpoints.
/// </summary>
public sealed class PeerValidation(CrowdDb db, ConsentGate gate, AuditLog audit, Notifications.Notifications notifications, TimeProvider clock,
    IOptions<CrowdOptions> options)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary>The job, when it asks for peer validation and this contributor may validate it (a live consent to its current terms).</summary>
    public async Task<Job?> JobForValidatorAsync(Guid jobId, Guid contributorId, CancellationToken ct)
    {
        var (outcome, job) = await gate.CheckAsync(jobId, contributorId, ct);
        return outcome == GateOutcome.Open && job is { PeerValidation: true } ? job : null;
    }

    public async Task<bool> MayValidateAsync(Guid jobId, Guid contributorId, CancellationToken ct) =>
        await JobForValidatorAsync(jobId, contributorId, ct) is not null;

    /// <summary>The oldest waiting clip of someone else that this validator has not voted on; null when there is none.</summary>
    public async Task<ValidationClip?> NextAsync(Job job, Guid contributorId, CancellationToken ct)
    {
        await TouchAsync(job, contributorId, ct);
        return await db.Clips.AsNoTracking()
            .Where(c => c.JobId == job.Id && c.ReviewStatus == ClipReview.Waiting && c.WithdrawnAt == null && c.AudioDestroyedAt == null
                        && c.ContributorId != contributorId
                        && !db.Set<ClipVote>().Any(v => v.ClipId == c.Id && v.VoterId == contributorId))
            .OrderBy(c => c.CreatedAt)
            .Join(db.Prompts, c => c.PromptId, p => p.Id, (c, p) => new ValidationClip(c.Id, p.Text, c.DurationMs))
            .FirstOrDefaultAsync(ct);
    }

    /// <summary>Records a vote and, when it settles the clip, its review status. The clip row is locked so votes on it are counted one at a time.</summary>
    public async Task<ReviewOutcome> VoteAsync(Guid clipId, Guid contributorId, bool up, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var clip = await db.Clips.FromSql($"SELECT * FROM clips WHERE id = {clipId} AND withdrawn_at IS NULL AND audio_destroyed_at IS NULL FOR UPDATE")
            .AsNoTracking().SingleOrDefaultAsync(ct);
        var job = clip is null ? null : await JobForValidatorAsync(clip.JobId, contributorId, ct);
        if (clip is null || job is null)
        {
            return ReviewOutcome.NotFound;
        }
        if (clip.ContributorId == contributorId)
        {
            return ReviewOutcome.Refused("You cannot validate your own clips. Other contributors validate them.");
        }
        if (clip.ReviewStatus != ClipReview.Waiting)
        {
            return ReviewOutcome.Refused("This clip has already been decided; it needs no more votes.");
        }
        var inserted = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO clip_votes (clip_id, voter_id, up, voted_at) VALUES ({clipId}, {contributorId}, {up}, {now})
            ON CONFLICT (clip_id, voter_id) DO NOTHING
            """, ct);
        if (inserted == 0)
        {
            return ReviewOutcome.Refused("You have already voted on this clip. Each validator votes once per clip.");
        }
        var votes = await db.Set<ClipVote>().Where(v => v.ClipId == clipId).GroupBy(v => v.Up).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
        var ups = votes.Where(v => v.Key).Sum(v => v.Count);
        var downs = votes.Where(v => !v.Key).Sum(v => v.Count);
        var verdict = ReviewRules.Verdict(ups, downs);
        if (verdict != PeerVerdict.Pending)
        {
            await db.Clips.Where(c => c.Id == clipId).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.ReviewStatus, verdict == PeerVerdict.Valid ? ClipReview.Accepted : ClipReview.Rejected)
                .SetProperty(c => c.ReviewedAt, now)
                .SetProperty(c => c.ReviewedByKind, "peers")
                .SetProperty(c => c.ReviewedBy, (Guid?)null), ct);
            if (verdict == PeerVerdict.Invalid)
            {
                // A peer rejection is a rejection like any other: the contributor sees it and may appeal to an admin.
                db.Add(new ClipRejection
                {
                    ClipId = clipId, Reason = RejectionReason.PeerValidation, RejectedAt = now,
                    // Counts only, so the note reads the same in every language.
                    Note = $"{downs} ↓ / {ups} ↑",
                });
                await db.SaveChangesAsync(ct);
                // The votes are the reason; the notification names it by its label.
                await RejectionNotices.RejectedAsync(db, notifications, clipId, RejectionReason.PeerValidation, null, null, ct);
            }
            await audit.AppendAsync(AuditEvent.BySystem(verdict == PeerVerdict.Valid ? "review.peer_accepted" : "review.peer_rejected", "clip",
                clipId.ToString(), "peer validation", JsonSerializer.Serialize(new { up = ups, down = downs }, s_json)), ct);
        }
        await TouchAsync(job, contributorId, ct);
        await tx.CommitAsync(ct);
        return ReviewOutcome.Ok;
    }

    /// <summary>
    /// Counts the time since the validator's last action, up to the recorder's idle cut-off (as the recording clock
    /// does), and accrues the session's new cumulative time. Called at every action: fetching a clip, playing it, voting.
    /// </summary>
    public async Task<long> TouchAsync(Job job, Guid contributorId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var cutoffMs = (long)TimeSpan.FromSeconds(options.Value.Recording.IdleCutoffSeconds).TotalMilliseconds;
        var touched = (await db.Database.SqlQuery<TouchedSession>($"""
            INSERT INTO validation_sessions AS s (id, job_id, job_version, contributor_id, active_ms, started_at, last_activity_at)
            VALUES ({Guid.CreateVersion7()}, {job.Id}, {job.Version}, {contributorId}, 0, {now}, {now})
            ON CONFLICT (job_id, job_version, contributor_id) DO UPDATE
            SET active_ms = s.active_ms + GREATEST(0, LEAST({cutoffMs}, (extract(epoch FROM ({now} - s.last_activity_at)) * 1000)::bigint)),
                last_activity_at = GREATEST(s.last_activity_at, {now})
            RETURNING id AS "SessionId", active_ms AS "ActiveMs"
            """).ToListAsync(ct)).Single();
        var (sessionId, activeMs) = (touched.SessionId, touched.ActiveMs);
        if (activeMs > 0)
        {
            await EarningsAccrual.AccrueAsync(db, sessionId, contributorId, job.Id, activeMs, clock, ct);
        }
        return activeMs;
    }
}

internal sealed record TouchedSession(Guid SessionId, long ActiveMs);
