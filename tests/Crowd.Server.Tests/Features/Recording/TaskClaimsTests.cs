using System.Collections.Concurrent;
using System.Diagnostics;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Features.Recording.Tasks;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Crowd.Server.Tests.Features.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Crowd.Server.Tests.Features.Recording;

public sealed class TaskClaimsTests(RecordingApp app, ITestOutputHelper output) : IClassFixture<RecordingApp>
{
    private async Task<T> WithClaimsAsync<T>(Func<TaskClaims, Task<T>> work, TimeProvider? clock = null)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CrowdDb>();
        var options = Options.Create(new CrowdOptions());
        return await work(new TaskClaims(db, clock ?? TimeProvider.System, options));
    }

    private static Clip FakeClip(TestJob job, Guid sessionId, Guid contributorId, TaskClaim claim) => new()
    {
        Id = Guid.CreateVersion7(),
        TakeId = Guid.CreateVersion7(),
        SessionId = sessionId,
        TaskId = claim.TaskId,
        JobId = job.Id,
        JobVersion = job.Version,
        PromptId = claim.PromptId,
        ContributorId = contributorId,
        StorageKey = "test/" + Guid.NewGuid().ToString("N"),
        Sha256 = new string('a', 64),
        SampleRate = 16_000,
        DurationMs = 3_000,
        CreatedAt = DateTimeOffset.UtcNow,
    };

    [Fact]
    public async Task FiftyParallelSessionsNeverDoubleClaimAndNeverExceedTheQuotas()
    {
        const int sessions = 50;
        const int prompts = 12;
        const int takesPerPrompt = 3;
        const int cap = 2;
        var job = await RecordingTestData.PublishedJobAsync(app, prompts, takesPerPrompt, adjust: j => j.MaxTakesPerSpeaker = cap);
        var speakers = new List<(Guid User, Guid Session)>();
        for (var i = 0; i < sessions; i++)
        {
            var user = await RecordingTestData.ContributorAsync(app);
            speakers.Add((user.Id, await RecordingTestData.OpenSessionRowAsync(app, job, user.Id)));
        }
        await WithClaimsAsync(async c => { await c.EnsureTasksAsync(job.Id, default); return 0; });

        var holders = new ConcurrentDictionary<Guid, Guid>();
        var doubleClaims = new ConcurrentBag<string>();
        var claimCount = 0;
        var start = new TaskCompletionSource();
        var watch = Stopwatch.StartNew();
        var workers = speakers.Select((s, index) => Task.Run(async () =>
        {
            await start.Task;
            var random = new Random(index);
            var skipped = new List<Guid>();
            for (var round = 0; round < 200; round++)
            {
                var result = await WithClaimsAsync(c => c.ClaimNextAsync(s.Session, job.Id, s.User, skipped, default));
                Interlocked.Increment(ref claimCount);
                if (result.Outcome == ClaimOutcome.AllClaimed)
                {
                    await Task.Delay(random.Next(1, 10)); // jitter, so that the speakers' claims interleave differently each round
                    continue;
                }
                if (result.Task is not { } claim)
                {
                    return result.Outcome;
                }
                if (!holders.TryAdd(claim.TaskId, s.Session))
                {
                    doubleClaims.Add($"task {claim.TaskId} held by {holders[claim.TaskId]} was also given to {s.Session}");
                }
                await Task.Delay(random.Next(0, 5)); // holds the task a random moment, as a speaker reading it would
                // Let go of the task in our bookkeeping before the database does, so no other claim can race the removal.
                holders.TryRemove(claim.TaskId, out _);
                if (random.Next(4) == 0)
                {
                    skipped.Add(claim.PromptId);
                    await WithClaimsAsync(async c => { await c.ReleaseAsync(s.Session, default); return 0; });
                }
                else
                {
                    await WithClaimsAsync(c => c.AcceptAsync(FakeClip(job, s.Session, s.User, claim), 1_000, default));
                }
            }
            return ClaimOutcome.AllClaimed;
        })).ToArray();
        start.SetResult();
        var outcomes = await Task.WhenAll(workers);
        watch.Stop();
        output.WriteLine($"{claimCount} claim attempts by {sessions} sessions in {watch.ElapsedMilliseconds} ms " +
            $"({claimCount * 1000.0 / watch.ElapsedMilliseconds:F0} claims/s)");

        doubleClaims.ShouldBeEmpty();
        var tasks = await app.WithDbAsync(db => db.RecordingTasks.Where(t => t.JobId == job.Id).ToListAsync());
        tasks.Count.ShouldBe(prompts * takesPerPrompt);
        tasks.ShouldAllBe(t => t.AcceptedTakes == t.TakesNeeded);
        tasks.GroupBy(t => t.PromptId).ShouldAllBe(g => g.Sum(t => t.AcceptedTakes) == takesPerPrompt);
        var clips = await app.WithDbAsync(db => db.Clips.Where(c => c.JobId == job.Id).ToListAsync());
        clips.Count.ShouldBe(prompts * takesPerPrompt);
        clips.GroupBy(c => c.ContributorId).ShouldAllBe(g => g.Count() <= cap);
        clips.GroupBy(c => (c.PromptId, c.ContributorId)).ShouldAllBe(g => g.Count() == 1);
        clips.GroupBy(c => c.TaskId).ShouldAllBe(g => g.Count() == 1);
        var tallies = await app.WithDbAsync(db => db.RecordingSpeakers.Where(s => s.JobId == job.Id).ToListAsync());
        tallies.ShouldAllBe(t => t.AcceptedTakes <= cap);
        outcomes.ShouldAllBe(o => o == ClaimOutcome.JobComplete || o == ClaimOutcome.SpeakerCapReached || o == ClaimOutcome.NothingLeftForYou);
        Npgsql.NpgsqlConnection.ClearPool(new Npgsql.NpgsqlConnection(app.Services.GetRequiredService<CrowdDatabase>().ConnectionString));
    }

    [Fact]
    public async Task ASubmitAndACheckpointBatchRenewingItsClaimBothLandWhenTheyMeetAtTheJobsEscrowLock()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 2);
        var speaker = await RecordingTestData.ContributorAsync(app);
        var other = await RecordingTestData.ContributorAsync(app);
        var session = await RecordingTestData.OpenSessionRowAsync(app, job, speaker.Id);
        var otherSession = await RecordingTestData.OpenSessionRowAsync(app, job, other.Id);
        await WithClaimsAsync(async c => { await c.EnsureTasksAsync(job.Id, default); return 0; });
        var claim = (await WithClaimsAsync(c => c.ClaimNextAsync(session, job.Id, speaker.Id, [], default))).Task!;
        var now = DateTimeOffset.UtcNow;

        // Something else (a funding, say) holds the job's escrow lock while a checkpoint batch renewing the claim and
        // the submit of that claim both begin, so each gets as far as it can before the lock is let go.
        await using var holder = app.Services.CreateAsyncScope();
        var holderDb = holder.ServiceProvider.GetRequiredService<CrowdDb>();
        await using var held = await holderDb.Database.BeginTransactionAsync();
        await EscrowService.LockAsync(holderDb, job.Id, default);
        var batch = Task.Run(async () =>
        {
            await using var scope = app.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<WorkerSessions>().CheckpointManyAsync(
                [new SessionCheckpoint(otherSession, other.Id, job.Id, 5_000, now, null, -1, Write: true, Working: false),
                 SessionCheckpoint.Renewal(session, speaker.Id, job.Id, now)], default);
        });
        await WaitingForLocksAsync(1);
        var submit = Task.Run(() => WithClaimsAsync(c => c.AcceptAsync(FakeClip(job, session, speaker.Id, claim), 3_000, default)));
        await WaitingForLocksAsync(2);
        await held.RollbackAsync();

        (await submit).ShouldBe(AcceptOutcome.Accepted);
        (await batch).ShouldHaveSingleItem().ShouldBe(otherSession);
        var accrued = await app.WithDbAsync(db => db.Set<EarningsAccrualRow>().Where(a => a.JobId == job.Id)
            .ToDictionaryAsync(a => a.SessionId, a => a.ActiveMsTotal));
        accrued.Count.ShouldBe(2);
        accrued[session].ShouldBe(3_000);
        accrued[otherSession].ShouldBe(5_000);
    }

    /// <summary>Returns once this many of the app's connections wait for a lock.</summary>
    private Task WaitingForLocksAsync(int count) => Eventually.TrueAsync(
        () => app.WithDbAsync(async db => await db.Database.SqlQuery<int>(
            $"SELECT count(*)::int AS \"Value\" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            .SingleAsync() >= count),
        $"{count} transactions to wait for a lock", TimeSpan.FromSeconds(30));

    [Fact]
    public async Task AsManySpeakersAsAPromptNeedsTakesRecordItAtOnceAndNoMore()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 1, takesPerPrompt: 3);
        var speakers = new List<(Guid User, Guid Session)>();
        for (var i = 0; i < 4; i++)
        {
            var user = await RecordingTestData.ContributorAsync(app);
            speakers.Add((user.Id, await RecordingTestData.OpenSessionRowAsync(app, job, user.Id)));
        }
        await WithClaimsAsync(async c => { await c.EnsureTasksAsync(job.Id, default); return 0; });

        var results = await Task.WhenAll(speakers.Select(s => WithClaimsAsync(c => c.ClaimNextAsync(s.Session, job.Id, s.User, [], default))));

        results.Count(r => r.Outcome == ClaimOutcome.Claimed).ShouldBe(3);
        results.Where(r => r.Task is not null).Select(r => r.Task!.TaskId).Distinct().Count().ShouldBe(3);
        results.Where(r => r.Task is not null).Select(r => r.Task!.PromptId).Distinct().Count().ShouldBe(1);
        results.Single(r => r.Task is null).Outcome.ShouldBe(ClaimOutcome.AllClaimed);
    }

    [Fact]
    public async Task ASpeakerRecordsEachPromptOnceWhicheverSlotIsFree()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 1, takesPerPrompt: 3);
        var user = await RecordingTestData.ContributorAsync(app);
        var session = await RecordingTestData.OpenSessionRowAsync(app, job, user.Id);
        await WithClaimsAsync(async c => { await c.EnsureTasksAsync(job.Id, default); return 0; });
        var claim = (await WithClaimsAsync(c => c.ClaimNextAsync(session, job.Id, user.Id, [], default))).Task!;
        (await WithClaimsAsync(c => c.AcceptAsync(FakeClip(job, session, user.Id, claim), 1_000, default))).ShouldBe(AcceptOutcome.Accepted);

        (await WithClaimsAsync(c => c.ClaimNextAsync(session, job.Id, user.Id, [], default))).Outcome.ShouldBe(ClaimOutcome.NothingLeftForYou);
    }

    [Fact]
    public async Task ASpeakerAtTheCapGetsNoMorePrompts()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 5, adjust: j => j.MaxTakesPerSpeaker = 2);
        var user = await RecordingTestData.ContributorAsync(app);
        var session = await RecordingTestData.OpenSessionRowAsync(app, job, user.Id);
        await WithClaimsAsync(async c => { await c.EnsureTasksAsync(job.Id, default); return 0; });

        for (var i = 0; i < 2; i++)
        {
            var claim = (await WithClaimsAsync(c => c.ClaimNextAsync(session, job.Id, user.Id, [], default))).Task!;
            (await WithClaimsAsync(c => c.AcceptAsync(FakeClip(job, session, user.Id, claim), 1_000, default))).ShouldBe(AcceptOutcome.Accepted);
        }

        (await WithClaimsAsync(c => c.ClaimNextAsync(session, job.Id, user.Id, [], default))).Outcome.ShouldBe(ClaimOutcome.SpeakerCapReached);
    }

    [Fact]
    public async Task AnExpiredClaimReturnsTheTaskToOthersAndTheLateSubmissionIsRefused()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 1);
        var first = await RecordingTestData.ContributorAsync(app);
        var second = await RecordingTestData.ContributorAsync(app);
        var firstSession = await RecordingTestData.OpenSessionRowAsync(app, job, first.Id);
        var secondSession = await RecordingTestData.OpenSessionRowAsync(app, job, second.Id);
        await WithClaimsAsync(async c => { await c.EnsureTasksAsync(job.Id, default); return 0; });

        var held = (await WithClaimsAsync(c => c.ClaimNextAsync(firstSession, job.Id, first.Id, [], default), clock)).Task!;
        (await WithClaimsAsync(c => c.ClaimNextAsync(secondSession, job.Id, second.Id, [], default), clock)).Outcome.ShouldBe(ClaimOutcome.AllClaimed);

        clock.Advance(TimeSpan.FromMinutes(11));
        var taken = (await WithClaimsAsync(c => c.ClaimNextAsync(secondSession, job.Id, second.Id, [], default), clock)).Task!;

        taken.TaskId.ShouldBe(held.TaskId);
        (await WithClaimsAsync(c => c.AcceptAsync(FakeClip(job, firstSession, first.Id, held), 1_000, default), clock)).ShouldBe(AcceptOutcome.ClaimLost);
        (await WithClaimsAsync(c => c.AcceptAsync(FakeClip(job, secondSession, second.Id, taken), 1_000, default), clock)).ShouldBe(AcceptOutcome.Accepted);
        (await app.WithDbAsync(db => db.Clips.CountAsync(c => c.JobId == job.Id))).ShouldBe(1);
    }

    [Fact]
    public async Task AClaimOnAClosedJobIsRefused()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 2);
        var user = await RecordingTestData.ContributorAsync(app);
        var session = await RecordingTestData.OpenSessionRowAsync(app, job, user.Id);
        await WithClaimsAsync(async c => { await c.EnsureTasksAsync(job.Id, default); return 0; });
        await app.WithDbAsync(db => db.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Closed)));

        (await WithClaimsAsync(c => c.ClaimNextAsync(session, job.Id, user.Id, [], default))).Outcome.ShouldBe(ClaimOutcome.JobClosed);
    }

    [Fact]
    public async Task AClaimOnAJobWhoseEscrowDoesNotCoverItOrThatIsPausedIsRefusedAsNotOpen()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 2);
        var user = await RecordingTestData.ContributorAsync(app);
        var session = await RecordingTestData.OpenSessionRowAsync(app, job, user.Id);
        await WithClaimsAsync(async c => { await c.EnsureTasksAsync(job.Id, default); return 0; });
        // A budget ten times larger than the escrow holds.
        await app.WithDbAsync(db => db.Set<JobBudget>().Where(b => b.JobId == job.Id).ExecuteUpdateAsync(s => s.SetProperty(b => b.TargetHours, 1_000)));

        (await WithClaimsAsync(c => c.ClaimNextAsync(session, job.Id, user.Id, [], default))).Outcome.ShouldBe(ClaimOutcome.JobNotOpen);

        await app.WithDbAsync(db => JobsTestData.FundAsync(db, job.Id));
        (await WithClaimsAsync(c => c.ClaimNextAsync(session, job.Id, user.Id, [], default))).Outcome.ShouldBe(ClaimOutcome.Claimed);

        await app.WithDbAsync(db => db.Set<JobBudget>().Where(b => b.JobId == job.Id).ExecuteUpdateAsync(s => s.SetProperty(b => b.PausedAt, DateTimeOffset.UtcNow)));
        (await WithClaimsAsync(c => c.ClaimNextAsync(session, job.Id, user.Id, [], default))).Outcome.ShouldBe(ClaimOutcome.JobNotOpen);
    }

    [Fact]
    public async Task TheDatabaseRefusesMoreAcceptedTakesThanAPromptNeeds()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 1, takesPerPrompt: 1);
        await WithClaimsAsync(async c => { await c.EnsureTasksAsync(job.Id, default); return 0; });

        var overfill = () => app.WithDbAsync(db => db.RecordingTasks.Where(t => t.JobId == job.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.AcceptedTakes, 2)));

        (await Should.ThrowAsync<Npgsql.PostgresException>(overfill)).ConstraintName.ShouldBe("ck_recording_tasks_quota");
    }
}
