using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Crowd.Server.Features.Recording.Tasks;

[GenerateSerializer]
public enum ClaimOutcome
{
    Claimed,
    /// <summary>The job is not (or no longer) published.</summary>
    JobClosed,
    /// <summary>The job is published but not live: its escrow does not cover its budget, or it is paused.</summary>
    JobNotOpen,
    /// <summary>Every prompt has all the takes it needs.</summary>
    JobComplete,
    /// <summary>This contributor has given the job as many takes as one speaker may.</summary>
    SpeakerCapReached,
    /// <summary>Prompts still need takes, but this contributor has recorded or skipped all of them.</summary>
    NothingLeftForYou,
    /// <summary>The prompts that still need takes are all held by other sessions right now.</summary>
    AllClaimed,
}

[GenerateSerializer, Immutable]
public sealed record TaskClaim(Guid TaskId, Guid PromptId, int Ordinal, int TakesNeeded, int AcceptedTakes, DateTimeOffset ExpiresAt);

[GenerateSerializer, Immutable]
public sealed record ClaimResult(ClaimOutcome Outcome, TaskClaim? Task = null);

[GenerateSerializer]
public enum AcceptOutcome
{
    Accepted,
    /// <summary>The claim expired and another session has the prompt now, or the prompt got all its takes meanwhile.</summary>
    ClaimLost,
    SpeakerCapReached,
    /// <summary>The contributor withdrew their consent to the job while the take was in progress.</summary>
    ConsentWithdrawn,
    /// <summary>The job published new terms since the session began: nothing more is recorded until the contributor consents to them.</summary>
    TermsChanged,
}

/// <summary>
/// Claims, renewals, releases and accepted takes of recording tasks. Each claim is one statement that locks the
/// chosen row with SKIP LOCKED, inside a transaction that first locks the contributor's tally row: parallel claims
/// never hand one task to two sessions, and one speaker's claims are serialised against the job's per-speaker cap. The job's
/// grain (<see cref="RecordingJobGrain"/>) and each slot's grain (<see cref="RecordingTaskGrain"/>) call these one at a time.
/// </summary>
public sealed class TaskClaims(CrowdDb db, TimeProvider clock, IOptions<CrowdOptions> options)
{
    private RecordingOptions Options => options.Value.Recording;

    /// <summary>Creates the take slots of a job's prompts that have none yet (jobs publish prompts; tasks follow on first use).</summary>
    public async Task EnsureTasksAsync(Guid jobId, CancellationToken ct)
    {
        var missing = await db.Prompts
            .Where(p => p.JobId == jobId && !db.RecordingTasks.Any(t => t.PromptId == p.Id))
            .Select(p => p.Id)
            .ToArrayAsync(ct);
        if (missing.Length == 0)
        {
            return;
        }
        var takes = await db.Jobs.Where(j => j.Id == jobId).Select(j => j.Terms.TakesPerPrompt).SingleAsync(ct);
        var prompts = missing.SelectMany(p => Enumerable.Repeat(p, takes)).ToArray();
        var slots = missing.SelectMany(_ => Enumerable.Range(0, takes)).ToArray();
        var ids = prompts.Select(_ => Guid.CreateVersion7()).ToArray();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO recording_tasks (id, job_id, prompt_id, ordinal, slot, takes_needed, accepted_takes)
            SELECT u.id, p.job_id, p.id, p.ordinal, u.slot, 1, 0
            FROM unnest({ids}, {prompts}, {slots}) AS u(id, prompt_id, slot)
            JOIN prompts p ON p.id = u.prompt_id
            ON CONFLICT (prompt_id, slot) DO NOTHING
            """, ct);
    }

    /// <param name="skippedPrompts">Prompts this session skipped: none of their slots is offered again.</param>
    public async Task<ClaimResult> ClaimNextAsync(Guid sessionId, Guid jobId, Guid contributorId, IReadOnlyCollection<Guid> skippedPrompts, CancellationToken ct)
    {
        if (!await JobFunding.IsLiveAsync(db, jobId, ct))
        {
            var published = await db.Jobs.AnyAsync(j => j.Id == jobId && j.Status == JobStatus.Published, ct);
            return new ClaimResult(published ? ClaimOutcome.JobNotOpen : ClaimOutcome.JobClosed);
        }
        var skippedIds = skippedPrompts.ToArray();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var claim = await ClaimInOneRoundTripAsync(sessionId, jobId, contributorId, skippedIds, ct);
            return claim is not null ? new ClaimResult(ClaimOutcome.Claimed, claim) : new ClaimResult(await WhyNothingAsync(jobId, contributorId, skippedIds, ct));
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Locks the contributor's tally row, drops this session's claim and claims the next task, in one transaction.</summary>
    private async Task<TaskClaim?> ClaimInOneRoundTripAsync(Guid sessionId, Guid jobId, Guid contributorId, Guid[] skippedIds, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var expires = now.AddMinutes(Options.ClaimMinutes);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await using var tx = await connection.BeginTransactionAsync(ct);
        // One batch: sent a statement at a time, 100 sessions' claims on one job queued past the grain call's timeout.
        await using var batch = new NpgsqlBatch(connection, tx)
        {
            BatchCommands =
            {
                Command("""
                    INSERT INTO recording_speakers (job_id, contributor_id, accepted_takes) VALUES (@job, @user, 0)
                    ON CONFLICT DO NOTHING
                    """, ("job", jobId), ("user", contributorId)),
                Command("SELECT accepted_takes FROM recording_speakers WHERE job_id = @job AND contributor_id = @user FOR UPDATE",
                    ("job", jobId), ("user", contributorId)),
                Command("UPDATE recording_tasks SET claimed_by_session_id = NULL, claim_expires_at = NULL WHERE claimed_by_session_id = @session",
                    ("session", sessionId)),
                Command("""
                    UPDATE recording_tasks t SET claimed_by_session_id = @session, claim_expires_at = @expires
                    FROM (
                        SELECT c.id FROM recording_tasks c
                        WHERE c.job_id = @job
                          AND c.accepted_takes < c.takes_needed
                          AND (c.claimed_by_session_id IS NULL OR c.claim_expires_at < @now)
                          AND c.prompt_id <> ALL(@skipped)
                          AND NOT EXISTS (SELECT 1 FROM clips k WHERE k.prompt_id = c.prompt_id AND k.contributor_id = @user)
                          AND (SELECT s.accepted_takes FROM recording_speakers s WHERE s.job_id = @job AND s.contributor_id = @user)
                              < (SELECT j.max_takes_per_speaker FROM jobs j WHERE j.id = @job)
                          AND (SELECT j.status FROM jobs j WHERE j.id = @job) = @published
                        ORDER BY c.ordinal, c.slot
                        LIMIT 1
                        FOR UPDATE SKIP LOCKED) chosen
                    WHERE t.id = chosen.id
                    RETURNING t.id, t.prompt_id, t.ordinal, t.takes_needed, t.accepted_takes
                    """,
                    ("session", sessionId), ("expires", expires), ("job", jobId), ("now", now), ("skipped", skippedIds),
                    ("user", contributorId), ("published", (int)JobStatus.Published)),
            },
        };
        TaskClaim? claim = null;
        await using (var reader = await batch.ExecuteReaderAsync(ct))
        {
            await reader.NextResultAsync(ct); // the tally row, locked until commit
            if (await reader.ReadAsync(ct))
            {
                claim = new TaskClaim(reader.GetGuid(0), reader.GetGuid(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4), expires);
            }
        }
        await tx.CommitAsync(ct);
        return claim;
    }

    private async Task<ClaimOutcome> WhyNothingAsync(Guid jobId, Guid contributorId, Guid[] skipped, CancellationToken ct)
    {
        var job = await db.Jobs.Where(j => j.Id == jobId).Select(j => new { j.Status, j.MaxTakesPerSpeaker }).SingleOrDefaultAsync(ct);
        if (job is null || job.Status != JobStatus.Published)
        {
            return ClaimOutcome.JobClosed;
        }
        var mine = await db.RecordingSpeakers.Where(s => s.JobId == jobId && s.ContributorId == contributorId).Select(s => s.AcceptedTakes).SingleOrDefaultAsync(ct);
        if (mine >= job.MaxTakesPerSpeaker)
        {
            return ClaimOutcome.SpeakerCapReached;
        }
        var open = db.RecordingTasks.Where(t => t.JobId == jobId && t.AcceptedTakes < t.TakesNeeded);
        if (!await open.AnyAsync(ct))
        {
            return ClaimOutcome.JobComplete;
        }
        var forMe = open.Where(t => !skipped.Contains(t.PromptId) && !db.Clips.Any(c => c.PromptId == t.PromptId && c.ContributorId == contributorId));
        return await forMe.AnyAsync(ct) ? ClaimOutcome.AllClaimed : ClaimOutcome.NothingLeftForYou;
    }

    public Task ReleaseAsync(Guid sessionId, CancellationToken ct) =>
        db.RecordingTasks.Where(t => t.ClaimedBySessionId == sessionId)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.ClaimedBySessionId, (Guid?)null).SetProperty(t => t.ClaimExpiresAt, (DateTimeOffset?)null), ct);

    /// <summary>Extends the claims of sessions whose contributors are still at work.</summary>
    public Task<int> RenewAsync(IReadOnlyCollection<Guid> sessionIds, CancellationToken ct)
    {
        var until = clock.GetUtcNow().AddMinutes(Options.ClaimMinutes);
        var ids = sessionIds.ToArray();
        return db.RecordingTasks.Where(t => t.ClaimedBySessionId != null && ids.Contains(t.ClaimedBySessionId.Value))
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.ClaimExpiresAt, until), ct);
    }

    /// <summary>
    /// Records an accepted take in one transaction: the task's count (only while this session still holds it), the
    /// speaker's tally (only below the cap), the clip row and the session's active time. Nothing lands unless all do.
    /// </summary>
    public async Task<AcceptOutcome> AcceptAsync(Clip clip, long activeMs, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // FOR SHARE: a withdrawal running now waits for this clip, then withdraws it with the rest.
        var consentId = await db.Database.SqlQuery<Guid>($"""
            SELECT id AS "Value" FROM consents
            WHERE job_id = {clip.JobId} AND job_version = {clip.JobVersion} AND contributor_id = {clip.ContributorId} AND withdrawn_at IS NULL
            LIMIT 1 FOR SHARE
            """).ToListAsync(ct);
        if (consentId.Count == 0)
        {
            return AcceptOutcome.ConsentWithdrawn;
        }
        if (!await db.Jobs.AnyAsync(j => j.Id == clip.JobId && j.Version == clip.JobVersion, ct))
        {
            return AcceptOutcome.TermsChanged;
        }
        clip.ConsentId = consentId[0];
        var task = await db.RecordingTasks
            .Where(t => t.Id == clip.TaskId && t.ClaimedBySessionId == clip.SessionId && t.AcceptedTakes < t.TakesNeeded)
            .ExecuteUpdateAsync(s => s
                .SetProperty(t => t.AcceptedTakes, t => t.AcceptedTakes + 1)
                .SetProperty(t => t.ClaimedBySessionId, (Guid?)null)
                .SetProperty(t => t.ClaimExpiresAt, (DateTimeOffset?)null), ct);
        if (task == 0)
        {
            return AcceptOutcome.ClaimLost;
        }
        var cap = await db.Jobs.Where(j => j.Id == clip.JobId).Select(j => j.MaxTakesPerSpeaker).SingleAsync(ct);
        var speaker = await db.RecordingSpeakers
            .Where(s => s.JobId == clip.JobId && s.ContributorId == clip.ContributorId && s.AcceptedTakes < cap)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.AcceptedTakes, x => x.AcceptedTakes + 1), ct);
        if (speaker == 0)
        {
            return AcceptOutcome.SpeakerCapReached;
        }
        db.Clips.Add(clip);
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        await db.WorkerSessions.Where(s => s.Id == clip.SessionId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.ActiveMs, x => x.ActiveMs > activeMs ? x.ActiveMs : activeMs)
                .SetProperty(x => x.Clips, x => x.Clips + 1)
                .SetProperty(x => x.LastCheckpointAt, now)
                .SetProperty(x => x.CurrentTaskId, (Guid?)null)
                .SetProperty(x => x.CurrentTakeId, (Guid?)null)
                .SetProperty(x => x.LastChunkSeq, -1), ct);
        // The clip and the pay for the time it took land together.
        await EarningsAccrual.AccrueAsync(db, clip.SessionId, clip.ContributorId, clip.JobId, activeMs, clock, ct);
        await tx.CommitAsync(ct);
        return AcceptOutcome.Accepted;
    }

    private static NpgsqlBatchCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(value is Guid[] guids
                ? new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = guids }
                : new NpgsqlParameter(name, value));
        }
        return command;
    }
}
