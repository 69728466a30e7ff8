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

    public static SessionJob Describe(Job job) => new(job.Title, job.HourlyRateMinor, job.Currency.Trim(), job.PromptCount, job.TakesPerPrompt,
        new QualityThresholds
        {
            MinDurationSeconds = job.ClipMinMs / 1000.0,
            MaxDurationSeconds = job.ClipMaxMs / 1000.0,
            MinSnrDb = job.MinSnrDb,
            MaxClippedRatio = job.MaxClippingRatio,
            MinSpeechRatio = job.MinSpeechRatio,
        });

    /// <summary>
    /// Writes the session's active time and accrues its pay in one transaction, so the ledger never lags the row: pay
    /// always equals the checkpointed time. Returns false when the session is no longer open.
    /// </summary>
    public async Task<bool> CheckpointAsync(Guid sessionId, Guid contributorId, Guid jobId, long activeMs, DateTimeOffset lastActivity,
        Guid? takeId, int lastSeq, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return await db.InTransactionAsync(async () =>
        {
            var open = await db.WorkerSessions.Where(s => s.Id == sessionId && s.State == WorkerSessionState.Open).ExecuteUpdateAsync(s => s
                .SetProperty(x => x.ActiveMs, x => x.ActiveMs > activeMs ? x.ActiveMs : activeMs)
                .SetProperty(x => x.LastActivityAt, lastActivity)
                .SetProperty(x => x.LastCheckpointAt, now)
                .SetProperty(x => x.CurrentTakeId, takeId)
                .SetProperty(x => x.LastChunkSeq, lastSeq), ct);
            if (open == 0)
            {
                return false;
            }
            await EarningsAccrual.AccrueAsync(db, sessionId, contributorId, jobId, activeMs, clock, ct);
            return true;
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
