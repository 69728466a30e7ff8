using Crowd.Audio.Quality;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Recording.Streaming;
using Crowd.Server.Features.Recording.Tasks;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Crowd.Server.Features.Recording.Sessions;

/// <summary>Opens, resumes, checkpoints and closes worker sessions: the database row and its live counterpart.</summary>
public sealed class WorkerSessions(CrowdDb db, SessionRegistry registry, TaskClaims claims, TimeProvider clock, IOptions<CrowdOptions> options,
    Notifications.Notifications notifications, IHubContext<RecordingHub>? hub = null)
{
    private RecordingOptions Options => options.Value.Recording;

    /// <summary>
    /// The contributor's open session on the job (created on first use), live on this node. After a crash or a
    /// dropped connection this is the same session with its checkpointed time; an unfinished take is not resumed
    /// across a crash, because its audio died with the node.
    /// </summary>
    public async Task<LiveSession> OpenAsync(Job job, Guid contributorId, CancellationToken ct)
    {
        await claims.EnsureTasksAsync(job.Id, ct);
        var row = await FindOpenAsync(job.Id, contributorId, ct);
        if (row is not null && row.JobVersion != job.Version)
        {
            // The terms changed since this session began: its time is kept, new work happens under the new terms.
            await CloseAsync(row.Id, ct);
            row = null;
        }
        if (row is null)
        {
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
                NodeId = registry.NodeId,
            };
            db.WorkerSessions.Add(row);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                db.ChangeTracker.Clear(); // two tabs opened it at once: both use the one that won
                row = await FindOpenAsync(job.Id, contributorId, ct) ?? throw new InvalidOperationException("The open session vanished.", e);
            }
        }

        var opened = row;
        var live = registry.GetOrAdd(row.Id, () => new LiveSession(opened, Describe(job),
            new ActiveClock(TimeSpan.FromSeconds(Options.IdleCutoffSeconds), opened.ActiveMs, clock.GetUtcNow())));
        if (live.Prompt is null)
        {
            live.Prompt = await HeldPromptAsync(live.Id, ct);
        }
        return live;
    }

    private Task<WorkerSession?> FindOpenAsync(Guid jobId, Guid contributorId, CancellationToken ct) =>
        db.WorkerSessions.AsNoTracking().SingleOrDefaultAsync(s => s.JobId == jobId && s.ContributorId == contributorId && s.State == WorkerSessionState.Open, ct);

    private async Task<HeldPrompt?> HeldPromptAsync(Guid sessionId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var held = await db.RecordingTasks.Where(t => t.ClaimedBySessionId == sessionId && t.ClaimExpiresAt > now)
            .Join(db.Prompts, t => t.PromptId, p => p.Id, (t, p) => new { t, p.Text })
            .FirstOrDefaultAsync(ct);
        return held is null ? null : new HeldPrompt(
            new TaskClaim(held.t.Id, held.t.PromptId, held.t.Ordinal, held.t.TakesNeeded, held.t.AcceptedTakes, held.t.ClaimExpiresAt!.Value), held.Text);
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
    /// Whether another node holds the session with a live connection: its row names that node and a connection, and
    /// that node checkpointed it recently. A crashed node stops checkpointing, so its hold lapses by itself.
    /// </summary>
    public Task<bool> HeldElsewhereAsync(Guid sessionId, CancellationToken ct)
    {
        var lease = clock.GetUtcNow().AddSeconds(-3 * Math.Clamp(Options.CheckpointSeconds, 1, 15));
        return db.WorkerSessions.AnyAsync(s => s.Id == sessionId && s.NodeId != registry.NodeId && s.ConnectionId != null
            && s.LastCheckpointAt > lease, ct);
    }

    /// <summary>Forgets the connection that just went away, unless the session has moved on to another one.</summary>
    public Task DetachAsync(Guid sessionId, string connectionId, CancellationToken ct) =>
        db.WorkerSessions.Where(s => s.Id == sessionId && s.ConnectionId == connectionId && s.NodeId == registry.NodeId)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.ConnectionId, (string?)null), ct);

    /// <summary>Records which connection on which node holds the session: the "one live stream per session" rule across nodes.</summary>
    public Task AttachAsync(LiveSession live, string connectionId, CancellationToken ct) =>
        db.WorkerSessions.Where(s => s.Id == live.Id).ExecuteUpdateAsync(s => s
            .SetProperty(x => x.ConnectionId, connectionId)
            .SetProperty(x => x.NodeId, registry.NodeId)
            .SetProperty(x => x.LastActivityAt, clock.GetUtcNow()), ct);

    /// <summary>
    /// Writes every live session's active time in one statement, renews the claims of contributors still at work and
    /// lets go of sessions whose connection is gone and whose clock has stopped.
    /// </summary>
    public async Task<int> CheckpointAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var sessions = registry.Snapshot();
        if (sessions.Count == 0)
        {
            return 0;
        }
        var ids = new Guid[sessions.Count];
        var active = new long[sessions.Count];
        var lastActivity = new DateTimeOffset[sessions.Count];
        var takes = new Guid?[sessions.Count];
        var seqs = new int[sessions.Count];
        var working = new List<Guid>(sessions.Count);
        var leaving = new List<LiveSession>();
        var i = 0;
        foreach (var live in sessions)
        {
            lock (live.Gate)
            {
                ids[i] = live.Id;
                active[i] = live.Clock.Settle(now);
                lastActivity[i] = live.Clock.LastEvent;
                takes[i] = live.TakeState == TakeState.Recording ? live.TakeId : null;
                seqs[i] = live.TakeState == TakeState.Recording ? live.ExpectedSeq - 1 : -1;
                if (!live.Clock.IsIdle(now))
                {
                    working.Add(live.Id);
                }
                else if (live.ConnectionId is null && !live.Streaming)
                {
                    leaving.Add(live);
                }
            }
            i++;
        }
        // Only rows this node still holds are written; a session taken over by another node is let go of here.
        var held = await db.Database.SqlQueryRaw<Guid>("""
            UPDATE worker_sessions w
            SET active_ms = GREATEST(w.active_ms, u.active_ms), last_activity_at = u.last_activity, last_checkpoint_at = @now,
                current_take_id = u.take_id, last_chunk_seq = u.seq
            FROM unnest(@ids, @active, @last, @takes, @seqs) AS u(id, active_ms, last_activity, take_id, seq)
            WHERE w.id = u.id AND w.state = 0 AND w.node_id = @node
            RETURNING w.id AS "Value"
            """,
            new NpgsqlParameter("now", now),
            new NpgsqlParameter("ids", ids),
            new NpgsqlParameter("active", active),
            new NpgsqlParameter("last", lastActivity),
            new NpgsqlParameter("takes", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = takes },
            new NpgsqlParameter("seqs", seqs),
            new NpgsqlParameter("node", registry.NodeId)).ToListAsync(ct);
        if (held.Count < sessions.Count)
        {
            var stillHeld = held.ToHashSet();
            foreach (var live in sessions.Where(l => !stillHeld.Contains(l.Id)))
            {
                string? connection;
                lock (live.Gate)
                {
                    connection = live.ConnectionId;
                    live.Closed = true;
                    live.StreamCancel?.Cancel();
                    live.DiscardTake();
                    registry.Remove(live);
                }
                working.Remove(live.Id);
                leaving.Remove(live);
                if (connection is not null && hub is not null)
                {
                    await hub.Clients.Client(connection).SendAsync("moved", (string?)null, ct);
                }
            }
        }
        await AccrueAsync(sessions, held, active, working, ct);
        if (working.Count > 0)
        {
            await claims.RenewAsync(working, ct);
        }
        foreach (var live in leaving)
        {
            lock (live.Gate)
            {
                if (live.ConnectionId is null && !live.Streaming)
                {
                    live.DiscardTake();
                    registry.Remove(live);
                }
            }
        }
        return sessions.Count;
    }

    /// <summary>
    /// Pay follows the checkpointed time: each held session's cumulative active time is accrued (escrow → contributor
    /// payable; only the difference since the last accrual is posted), then each job with people working checks that its
    /// escrow still covers their next hour, pausing itself with a notice to the requester when it does not.
    /// </summary>
    private async Task AccrueAsync(IReadOnlyCollection<LiveSession> sessions, List<Guid> held, long[] active, List<Guid> working,
        CancellationToken ct)
    {
        var stillHeld = held.ToHashSet();
        var checkpoints = new List<Checkpoint>(held.Count);
        var i = 0;
        foreach (var live in sessions)
        {
            if (stillHeld.Contains(live.Id))
            {
                checkpoints.Add(new Checkpoint(live.Id, live.ContributorId, live.JobId, active[i]));
            }
            i++;
        }
        if (checkpoints.Count == 0)
        {
            return;
        }
        await EarningsAccrual.AccrueManyAsync(db, checkpoints, clock, ct);
        var workingIds = working.ToHashSet();
        foreach (var job in sessions.Where(l => workingIds.Contains(l.Id)).GroupBy(l => l.JobId))
        {
            await JobFunding.CheckNextHourAsync(db, notifications, job.Key, job.Count(), clock, ct);
        }
    }

    /// <summary>Ends a session: its time is written, its prompt goes back to the pool, it is no longer live.</summary>
    public async Task CloseAsync(Guid sessionId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        long? activeMs = null;
        if (registry.TryGet(sessionId, out var live))
        {
            lock (live.Gate)
            {
                live.Closed = true;
                activeMs = live.Clock.Settle(now);
                live.StreamCancel?.Cancel();
                live.DiscardTake();
            }
            registry.Remove(live);
        }
        await claims.ReleaseAsync(sessionId, ct);
        await db.WorkerSessions.Where(s => s.Id == sessionId).ExecuteUpdateAsync(s => s
            .SetProperty(x => x.State, WorkerSessionState.Closed)
            .SetProperty(x => x.ClosedAt, now)
            .SetProperty(x => x.ActiveMs, x => activeMs != null && activeMs > x.ActiveMs ? activeMs.Value : x.ActiveMs)
            .SetProperty(x => x.LastCheckpointAt, now)
            .SetProperty(x => x.CurrentTakeId, (Guid?)null)
            .SetProperty(x => x.ConnectionId, (string?)null), ct);
        if (live is not null && activeMs is { } total)
        {
            await EarningsAccrual.AccrueAsync(db, sessionId, live.ContributorId, live.JobId, total, clock, ct);
        }
    }
}

/// <summary>Checkpoints live sessions' active time every few seconds, so a crashed node loses seconds of pay, not more.</summary>
public sealed class SessionCheckpointer(IServiceScopeFactory scopes, TimeProvider clock, IOptions<CrowdOptions> options, ILogger<SessionCheckpointer> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(Math.Clamp(options.Value.Recording.CheckpointSeconds, 1, 15));
        using var timer = new PeriodicTimer(period, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<WorkerSessions>().CheckpointAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Checkpointing worker sessions failed; retrying at the next tick");
            }
        }
    }
}
