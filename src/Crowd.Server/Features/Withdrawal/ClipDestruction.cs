using System.Text.Json;
using Crowd.Server.Features.Audit;
using Crowd.Server.Features.DeletionNotices;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Withdrawal;

/// <summary>A clip as it is about to be destroyed (read under a row lock).</summary>
public sealed record ClipToDestroy(Guid ClipId, Guid JobId, string StorageKey, bool HasKey, string? AuditDetails = null);

/// <summary>Who destroyed the audio, for the audit log: the contributor (withdrawal) or the system (retention).</summary>
public sealed record Actor(string Kind, Guid? Id)
{
    public static readonly Actor System = new("system", null);

    public static Actor User(Guid id) => new("user", id);
}

/// <summary>
/// Crypto-shredding, the one path withdrawal and retention share. Inside the caller's transaction: the clips' wrapped
/// keys are set to NULL (the only copy of each key: every copy of the blob, backups included, is unreadable once this
/// commits), the files are queued for deletion, each step is audited and every organisation that exported a clip gets a
/// deletion notice. The files themselves are deleted after the commit by <see cref="ClipFiles"/>.
/// </summary>
public sealed class ClipDestruction(CrowdDb db, AuditLog audit, DeletionNoticeWriter notices, TimeProvider clock)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public async Task<int> DestroyAsync(IReadOnlyList<ClipToDestroy> clips, DeletionReason reason, Actor actor, CancellationToken ct)
    {
        if (clips.Count == 0)
        {
            return 0;
        }
        var now = clock.GetUtcNow();
        var ids = clips.Select(c => c.ClipId).ToArray();
        var withdrawal = reason == DeletionReason.Withdrawal;
        await db.Clips.Where(c => ids.Contains(c.Id)).ExecuteUpdateAsync(s =>
        {
            s.SetProperty(c => c.WrappedKey, (byte[]?)null);
            s.SetProperty(c => c.AudioDestroyedAt, c => c.AudioDestroyedAt ?? now);
            if (withdrawal)
            {
                s.SetProperty(c => c.WithdrawnAt, c => c.WithdrawnAt ?? now);
            }
        }, ct);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO clip_file_deletions (clip_id, storage_key, queued_at, attempts)
            SELECT id, storage_key, {now}, 0 FROM clips WHERE id = ANY({ids})
            ON CONFLICT (clip_id) DO NOTHING
            """, ct);
        foreach (var clip in clips)
        {
            var subject = clip.ClipId.ToString();
            var details = clip.AuditDetails ?? JsonSerializer.Serialize(new { jobId = clip.JobId }, s_json);
            if (withdrawal)
            {
                await audit.AppendAsync(new AuditEvent(actor.Kind, actor.Id, "clip.withdrawn", "clip", subject, "withdrawn by the contributor", details), ct);
            }
            else
            {
                await audit.AppendAsync(new AuditEvent(actor.Kind, actor.Id, "retention.destroyed", "clip", subject, "retention period ended", details), ct);
            }
            if (clip.HasKey)
            {
                await audit.AppendAsync(new AuditEvent(actor.Kind, actor.Id, "clip.key_destroyed", "clip", subject, DeletionNoticeWriter.ReasonCode(reason)), ct);
            }
        }
        return await notices.SendAsync(ids, reason, ct);
    }
}

/// <summary>
/// Deletes encrypted clip files whose keys were destroyed. Idempotent: a file already gone counts as deleted; a failure
/// stays queued for <see cref="SweepAsync"/> (run by the retention job) to try again.
/// </summary>
public sealed class ClipFiles(CrowdDb db, ClipVault vault, AuditLog audit, TimeProvider clock, ILogger<ClipFiles> logger)
{
    public async Task<int> DeleteAsync(IEnumerable<Guid> clipIds, CancellationToken ct)
    {
        var ids = clipIds.ToArray();
        var queued = await db.Set<ClipFileDeletion>().AsNoTracking().Where(d => ids.Contains(d.ClipId) && d.DeletedAt == null).ToListAsync(ct);
        return await DeleteQueuedAsync(queued, ct);
    }

    public async Task<int> SweepAsync(int batch, CancellationToken ct)
    {
        var deleted = 0;
        var seen = new HashSet<Guid>();
        while (true)
        {
            var queued = await db.Set<ClipFileDeletion>().AsNoTracking().Where(d => d.DeletedAt == null)
                .OrderBy(d => d.QueuedAt).Take(batch).ToListAsync(ct);
            // A file that keeps failing is tried once per sweep, not in a loop.
            queued.RemoveAll(d => !seen.Add(d.ClipId));
            if (queued.Count == 0)
            {
                return deleted;
            }
            deleted += await DeleteQueuedAsync(queued, ct);
        }
    }

    private async Task<int> DeleteQueuedAsync(List<ClipFileDeletion> queued, CancellationToken ct)
    {
        var deleted = 0;
        foreach (var file in queued)
        {
            string? error = null;
            try
            {
                await vault.DeleteAsync(file.StorageKey, ct);
            }
            catch (DirectoryNotFoundException)
            {
                // Already gone: deleting is idempotent.
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error = e.Message.Length > 500 ? e.Message[..500] : e.Message;
                logger.LogWarning("Clip file {StorageKey} not deleted yet: {Error}", file.StorageKey, error);
            }
            var now = clock.GetUtcNow();
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var updated = await db.Set<ClipFileDeletion>().Where(d => d.ClipId == file.ClipId && d.DeletedAt == null)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(d => d.Attempts, d => d.Attempts + 1)
                    .SetProperty(d => d.LastError, error)
                    .SetProperty(d => d.DeletedAt, error == null ? now : null), ct);
            if (updated == 1 && error is null)
            {
                await audit.AppendAsync(AuditEvent.BySystem("clip.file_deleted", "clip", file.ClipId.ToString(), "key destroyed",
                    JsonSerializer.Serialize(new { storageKey = file.StorageKey })), ct);
                deleted++;
            }
            await tx.CommitAsync(ct);
        }
        return deleted;
    }
}
