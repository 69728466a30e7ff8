using System.Text.Json;
using Crowd.Server.Features.Audit;
using Crowd.Server.Features.DeletionNotices;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Withdrawal;

public enum WithdrawalOutcome
{
    Withdrawn,
    /// <summary>Done before: nothing left to withdraw (asking twice is not an error).</summary>
    AlreadyWithdrawn,
    /// <summary>No such clip or job among the caller's own: nothing changed.</summary>
    NotFound,
}

public sealed record WithdrawalResult(WithdrawalOutcome Outcome, int ConsentsWithdrawn, int ClipsWithdrawn, int NoticesSent, DateTimeOffset At);

/// <summary>
/// A contributor takes back a clip, or their consent to a whole job. One transaction: the consent first (recording
/// takes it FOR SHARE, so a clip being stored at this moment either lands before and is withdrawn here, or finds the
/// consent withdrawn and is not kept), then the clips' keys, the audit entries and the deletion notices; the encrypted
/// files are deleted after the commit. Pay already earned is never touched.
/// </summary>
public sealed class WithdrawalService(CrowdDb db, AuditLog audit, ClipDestruction destruction, ClipFiles files, TimeProvider clock)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public async Task<WithdrawalResult> WithdrawClipAsync(Guid contributorId, Guid clipId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        WithdrawalResult result;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var clips = await LockClipsAsync(contributorId, clipId: clipId, jobId: null, ct);
            if (clips.Count == 0)
            {
                var owned = await db.Clips.AnyAsync(c => c.Id == clipId && c.ContributorId == contributorId, ct);
                return new WithdrawalResult(owned ? WithdrawalOutcome.AlreadyWithdrawn : WithdrawalOutcome.NotFound, 0, 0, 0, now);
            }
            var notices = await destruction.DestroyAsync(clips, DeletionReason.Withdrawal, Actor.User(contributorId), ct);
            await tx.CommitAsync(ct);
            result = new WithdrawalResult(WithdrawalOutcome.Withdrawn, 0, clips.Count, notices, now);
        }
        await files.DeleteAsync([clipId], ct);
        return result;
    }

    public async Task<WithdrawalResult> WithdrawJobAsync(Guid contributorId, Guid jobId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        WithdrawalResult result;
        List<ClipToDestroy> clips;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var consents = await db.Database.SqlQuery<Guid>($"""
                UPDATE consents SET withdrawn_at = {now}
                WHERE job_id = {jobId} AND contributor_id = {contributorId} AND withdrawn_at IS NULL
                RETURNING id AS "Value"
                """).ToListAsync(ct);
            clips = await LockClipsAsync(contributorId, clipId: null, jobId: jobId, ct);
            if (consents.Count == 0 && clips.Count == 0)
            {
                var known = await db.Consents.AnyAsync(c => c.JobId == jobId && c.ContributorId == contributorId, ct)
                    || await db.Clips.AnyAsync(c => c.JobId == jobId && c.ContributorId == contributorId, ct);
                return new WithdrawalResult(known ? WithdrawalOutcome.AlreadyWithdrawn : WithdrawalOutcome.NotFound, 0, 0, 0, now);
            }
            foreach (var consent in consents)
            {
                await audit.AppendAsync(new AuditEvent("user", contributorId, "consent.withdrawn", "consent", consent.ToString(),
                    "withdrawn by the contributor", JsonSerializer.Serialize(new { jobId }, s_json)), ct);
            }
            var notices = await destruction.DestroyAsync(clips, DeletionReason.Withdrawal, Actor.User(contributorId), ct);
            await tx.CommitAsync(ct);
            result = new WithdrawalResult(WithdrawalOutcome.Withdrawn, consents.Count, clips.Count, notices, now);
        }
        await files.DeleteAsync(clips.Select(c => c.ClipId), ct);
        return result;
    }

    private Task<List<ClipToDestroy>> LockClipsAsync(Guid contributorId, Guid? clipId, Guid? jobId, CancellationToken ct) =>
        db.Database.SqlQuery<ClipToDestroy>($"""
            SELECT id AS "ClipId", job_id AS "JobId", storage_key AS "StorageKey", wrapped_key IS NOT NULL AS "HasKey", NULL::text AS "AuditDetails"
            FROM clips
            WHERE contributor_id = {contributorId} AND withdrawn_at IS NULL
              AND ({clipId}::uuid IS NULL OR id = {clipId}) AND ({jobId}::uuid IS NULL OR job_id = {jobId})
            ORDER BY id
            FOR UPDATE
            """).ToListAsync(ct);
}
