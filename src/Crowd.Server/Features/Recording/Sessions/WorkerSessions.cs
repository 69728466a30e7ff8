using Crowd.Audio.Quality;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Recording.Tasks;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crowd.Server.Features.Recording.Sessions;

/// <summary>What a session needs to know about its job, read once when the session's grain activates.</summary>
public sealed record SessionJob(string Title, long HourlyRateMinor, string Currency, int PromptCount, int TakesPerPrompt, QualityThresholds Thresholds);

public sealed record HeldPrompt(TaskClaim Claim, string Text);

/// <summary>
/// One session's checkpoint. <paramref name="Write"/>: its time (and the take it is recording) is written and paid;
/// <paramref name="Working"/>: its contributor is at work, so the claim of the prompt in hand is renewed.
/// </summary>
public sealed record SessionCheckpoint(Guid SessionId, Guid ContributorId, Guid JobId, long ActiveMs, DateTimeOffset LastActivity, Guid? TakeId,
    int LastSeq, bool Write, bool Working)
{
    /// <summary>Only renews the claim of the prompt in hand; nothing of the session is written.</summary>
    public static SessionCheckpoint Renewal(Guid sessionId, Guid contributorId, Guid jobId, DateTimeOffset at) =>
        new(sessionId, contributorId, jobId, 0, at, null, -1, Write: false, Working: true);
}

/// <summary>The rows behind worker sessions: opening one, and what its grain reads at activation and writes at checkpoints.</summary>
public sealed class WorkerSessions(CrowdDb db, TaskClaims claims, TimeProvider clock, IGrainFactory grains)
{
    /// <summary>
    /// The contributor's open session on the job (created on first use). After a crash or a dropped connection this is
    /// the same session with its checkpointed time. A session begun under older terms is closed (its time kept) and a new
    /// one opened.
    /// </summary>
    public async Task<Guid> OpenAsync(Job job, Guid contributorId, CancellationToken ct)
    {
        await claims.EnsureTasksAsync(job.Id, ct);
        var row = await FindOpenAsync(job.Id, contributorId, ct);
        if (row is not null && row.JobVersion != job.Version)
        {
            await grains.GetGrain<IWorkerSessionGrain>(row.Id).Close();
            row = null;
        }
        if (row is not null)
        {
            return row.Id;
        }
        var now = clock.GetUtcNow();
        row = new WorkerSession
        {
            Id = Guid.CreateVersion7(),
            JobId = job.Id,
            JobVersion = job.Version,
            ContributorId = contributorId,
            State = WorkerSessionState.Open,
            StartedAt = now,
            LastActivityAt = now,
            LastCheckpointAt = now,
        };
        db.WorkerSessions.Add(row);
        try
        {
            await db.SaveChangesAsync(ct);
            return row.Id;
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear(); // two tabs opened it at once: both use the one that won
            return (await FindOpenAsync(job.Id, contributorId, ct) ?? throw new InvalidOperationException("The open session vanished.", e)).Id;
        }
    }

    private Task<WorkerSession?> FindOpenAsync(Guid jobId, Guid contributorId, CancellationToken ct) =>
        db.WorkerSessions.AsNoTracking().SingleOrDefaultAsync(s => s.JobId == jobId && s.ContributorId == contributorId && s.State == WorkerSessionState.Open, ct);

    /// <summary>An open session's row and its job, as its grain activates (on any node), or null when it is closed.</summary>
    public async Task<(WorkerSession Row, Job Job, HeldPrompt? Prompt)?> LoadAsync(Guid sessionId, string node, CancellationToken ct)
    {
        var row = await db.WorkerSessions.AsNoTracking().SingleOrDefaultAsync(s => s.Id == sessionId && s.State == WorkerSessionState.Open, ct);
        if (row is null)
        {
            return null;
        }
        var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == row.JobId, ct);
        await db.WorkerSessions.Where(s => s.Id == sessionId).ExecuteUpdateAsync(s => s.SetProperty(x => x.NodeId, node), ct);
        return (row, job, await HeldPromptAsync(sessionId, ct));
    }

    private async Task<HeldPrompt?> HeldPromptAsync(Guid sessionId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var held = await db.RecordingTasks.Where(t => t.ClaimedBySessionId == sessionId && t.ClaimExpiresAt > now)
            .Join(db.Prompts, t => t.PromptId, p => p.Id, (t, p) => new { t, p.Text })
            .FirstOrDefaultAsync(ct);
        return held is null ? null : new HeldPrompt(
            new TaskClaim(held.t.Id, held.t.PromptId, held.t.Ordinal, held.t.TakesNeeded, held.t.AcceptedTakes, held.t.ClaimExpiresAt!.Value), held.Text);
    }

    public Task<string> PromptTextAsync(Guid promptId, CancellationToken ct) =>
        db.Prompts.Where(p => p.Id == promptId).Select(p => p.Text).SingleAsync(ct);

    public Task HoldTaskAsync(Guid sessionId, Guid taskId, CancellationToken ct) =>
        db.WorkerSessions.Where(s => s.Id == sessionId).ExecuteUpdateAsync(s => s.SetProperty(x => x.CurrentTaskId, taskId), ct);

    /// <summary>Accepted and needed takes over the whole job: the progress the recorder shows.</summary>
    public async Task<(int Accepted, int Needed)> ProgressAsync(Guid jobId, CancellationToken ct)
    {
        var progress = await db.RecordingTasks.Where(t => t.JobId == jobId)
            .GroupBy(_ => 1)
            .Select(g => new { Accepted = g.Sum(t => t.AcceptedTakes), Needed = g.Sum(t => t.TakesNeeded) })
            .SingleOrDefaultAsync(ct);
        return (progress?.Accepted ?? 0, progress?.Needed ?? 0);
    }

    public static SessionJob Describe(Job job) => new(job.Terms.Title, job.Terms.HourlyRateMinor, job.Terms.Currency.Trim(), job.PromptCount,
        job.Terms.TakesPerPrompt, new QualityThresholds
        {
            MinDurationSeconds = job.Terms.ClipMinMs / 1000.0,
            MaxDurationSeconds = job.Terms.ClipMaxMs / 1000.0,
            MinSnrDb = job.Terms.MinSnrDb,
            MaxClippedRatio = job.Terms.MaxClippingRatio,
            MinSpeechRatio = job.Terms.MinSpeechRatio,
        });

    /// <summary>
    /// Writes many sessions' checkpoints in one transaction: each session's active time, the pay for it (so the ledger
    /// never lags the row), and the renewed claims of contributors at work. Returns the sessions written that were still
    /// open; a session closed from elsewhere is left as it is.
    /// </summary>
    public async Task<IReadOnlySet<Guid>> CheckpointManyAsync(IReadOnlyList<SessionCheckpoint> checkpoints, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        // Sorted, so that the rows are locked in one order whatever the batch.
        var writes = checkpoints.Where(c => c.Write).OrderBy(c => c.SessionId).ToList();
        var ids = writes.Select(c => c.SessionId).ToArray();
        var activeMs = writes.Select(c => c.ActiveMs).ToArray();
        var lastActivity = writes.Select(c => c.LastActivity).ToArray();
        var takes = writes.Select(c => c.TakeId).ToArray();
        var lastSeqs = writes.Select(c => c.LastSeq).ToArray();
        var working = checkpoints.Where(c => c.Working).Select(c => c.SessionId).ToArray();
        return await db.InTransactionAsync(async () =>
        {
            // Claims first, sessions next, the escrow last (in the accrual), as a submit and a close take them.
            if (working.Length > 0)
            {
                await claims.RenewAsync(working, ct);
            }
            var open = ids.Length == 0 ? [] : (await db.Database.SqlQuery<Guid>($"""
                UPDATE worker_sessions AS s
                SET active_ms = greatest(s.active_ms, u.active_ms), last_activity_at = u.last_activity, last_checkpoint_at = {now},
                    current_take_id = u.take_id, last_chunk_seq = u.last_seq
                FROM unnest({ids}, {activeMs}, {lastActivity}, {takes}, {lastSeqs}) AS u(id, active_ms, last_activity, take_id, last_seq)
                WHERE s.id = u.id AND s.state = {(int)WorkerSessionState.Open}
                RETURNING s.id AS "Value"
                """).ToListAsync(ct)).ToHashSet();
            var paid = writes.Where(c => open.Contains(c.SessionId)).Select(c => new Checkpoint(c.SessionId, c.ContributorId, c.JobId, c.ActiveMs)).ToList();
            if (paid.Count > 0)
            {
                await EarningsAccrual.AccrueManyAsync(db, paid, clock, ct);
            }
            return (IReadOnlySet<Guid>)open;
        }, ct);
    }

    /// <summary>Ends a session: its time is written and paid, its prompt goes back to the pool.</summary>
    public async Task CloseAsync(Guid sessionId, Guid contributorId, Guid jobId, long activeMs, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await db.InTransactionAsync(async () =>
        {
            await claims.ReleaseAsync(sessionId, ct);
            var closed = await db.WorkerSessions.Where(s => s.Id == sessionId && s.State == WorkerSessionState.Open).ExecuteUpdateAsync(s => s
                .SetProperty(x => x.State, WorkerSessionState.Closed)
                .SetProperty(x => x.ClosedAt, now)
                .SetProperty(x => x.ActiveMs, x => x.ActiveMs > activeMs ? x.ActiveMs : activeMs)
                .SetProperty(x => x.LastCheckpointAt, now)
                .SetProperty(x => x.CurrentTakeId, (Guid?)null), ct);
            if (closed > 0)
            {
                await EarningsAccrual.AccrueAsync(db, sessionId, contributorId, jobId, activeMs, clock, ct);
            }
            return closed;
        }, ct);
    }
}
