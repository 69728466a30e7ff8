using System.Runtime.InteropServices;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Features.Recording.Tasks;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Recording;

/// <summary>The recording server on a clock the test moves, so paid time can be checked to the millisecond.</summary>
public sealed class SessionClockApp : RecordingApp
{
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crowd:Recording:AudioAheadSeconds", "60");
        builder.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(Time));
    }
}

public sealed class WorkerSessionTests(SessionClockApp app) : IClassFixture<SessionClockApp>
{
    /// <summary>How long the node may take over what it does on its own thread; the clock under test does not move meanwhile.</summary>
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    private readonly SilentObserver _observer = new();

    private FakeTimeProvider Clock => app.Time;

    private IWorkerSessionGrain Grain(Guid sessionId) => app.Services.GetRequiredService<IGrainFactory>().GetGrain<IWorkerSessionGrain>(sessionId);

    /// <summary>A session held by a (pretend) connection, as the hub's Join leaves it.</summary>
    private async Task<(IWorkerSessionGrain Grain, Guid SessionId, TestJob Job, Guid User)> JoinedAsync(string connection = "connection-1")
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 2);
        var user = await RecordingTestData.ContributorAsync(app, job);
        var sessionId = await RecordingTestData.OpenSessionRowAsync(app, job, user.Id);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<TaskClaims>().EnsureTasksAsync(job.Id, default);
        }
        var grain = Grain(sessionId);
        await grain.Join(connection, app.Services.GetRequiredService<IGrainFactory>().CreateObjectReference<ISessionObserver>(_observer), false);
        return (grain, sessionId, job, user.Id);
    }

    private Task<WorkerSession> RowAsync(Guid id) => app.WithDbAsync(db => db.WorkerSessions.AsNoTracking().SingleAsync(s => s.Id == id));

    private Task<Crowd.Server.Infrastructure.Money.Money> PayableAsync(Guid user) =>
        app.WithDbAsync(db => LedgerQueries.BalanceAsync(db, AccountRef.Payable(user, "CNY")));

    [Fact]
    public async Task ACheckpointWritesTheActiveTimeSoFarAndPaysForIt()
    {
        var (grain, sessionId, _, user) = await JoinedAsync();
        for (var i = 0; i < 10; i++)
        {
            Clock.Advance(TimeSpan.FromSeconds(1));
            await grain.Ping("connection-1", "mic_check");
        }

        (await grain.Checkpoint()).ShouldBe(10_000);

        var row = await RowAsync(sessionId);
        row.ActiveMs.ShouldBe(10_000);
        row.LastCheckpointAt.ShouldBe(Clock.GetUtcNow(), TimeSpan.FromMilliseconds(1));
        (await PayableAsync(user)).Minor.ShouldBe(PayCalculator.PayForActiveTime(10_000, 3000));
    }

    [Fact]
    public async Task AnIdleContributorIsPaidUpToTheCutoffAndNoMore()
    {
        var (grain, sessionId, _, _) = await JoinedAsync();
        Clock.Advance(TimeSpan.FromSeconds(5));
        await grain.Ping("connection-1", "listen_back");

        Clock.Advance(TimeSpan.FromMinutes(30));
        await grain.Checkpoint();

        (await RowAsync(sessionId)).ActiveMs.ShouldBe(5_000 + 120_000);
    }

    [Fact]
    public async Task OpeningTheRecorderForTwoSecondsAndLeavingPaysTwoSeconds()
    {
        var (client, job, user, _) = await RecordingHubTests.JoinedAsync(app);
        var view = await client.InvokeAsync("Join", job.Id, false);
        var sessionId = (Guid)view!["sessionId"]!;
        Clock.Advance(TimeSpan.FromSeconds(2));

        await client.DisposeAsync(); // the contributor goes to another page
        await Eventually.TrueAsync(async () => !await Grain(sessionId).Held(), "the node to notice the closed socket", s_wait);
        Clock.Advance(TimeSpan.FromMinutes(1));
        await Grain(sessionId).Checkpoint();

        (await RowAsync(sessionId)).ActiveMs.ShouldBe(2_000);
        (await PayableAsync(user)).Minor.ShouldBe(PayCalculator.PayForActiveTime(2_000, 3000));
    }

    [Fact]
    public async Task ASessionNobodyComesBackToEndsAndTheNextVisitEarnsFromZero()
    {
        var (client, job, _, cookie) = await RecordingHubTests.JoinedAsync(app);
        var first = (Guid)(await client.InvokeAsync("Join", job.Id, false))!["sessionId"]!;
        Clock.Advance(TimeSpan.FromMinutes(5));
        ((long)(await client.InvokeAsync("Ping", "review"))!["activeMs"]!).ShouldBe(120_000);
        await client.DisposeAsync();
        await Eventually.TrueAsync(async () => !await Grain(first).Held(), "the node to notice the closed socket", s_wait);

        Clock.Advance(TimeSpan.FromMinutes(3));
        await Grain(first).Checkpoint();
        await using var back = await new HubConnector(app).ConnectAsync(cookie);
        var view = await back.InvokeAsync("Join", job.Id, false);

        (await RowAsync(first)).State.ShouldBe(WorkerSessionState.Closed);
        ((Guid)view!["sessionId"]!).ShouldNotBe(first);
        ((long)view["activeMs"]!).ShouldBe(0);
        ((long)view["earned"]!["minor"]!).ShouldBe(0, "earned this session is this session's, not the job's lifetime total");
    }

    [Fact]
    public async Task ClaimsOfWorkingContributorsAreRenewedAtEachCheckpoint()
    {
        var (grain, _, _, _) = await JoinedAsync();
        var claimed = await grain.NextPrompt("connection-1", skip: false);
        claimed.Status.ShouldBe("prompt");

        Clock.Advance(TimeSpan.FromMinutes(1));
        await grain.Ping("connection-1", "mic_check");
        await grain.Checkpoint();

        var renewed = await app.WithDbAsync(db => db.RecordingTasks.SingleAsync(t => t.Id == claimed.Prompt!.TaskId));
        renewed.ClaimExpiresAt!.Value.ShouldBe(Clock.GetUtcNow().AddMinutes(10), TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task StartingATakeRenewsTheClaimWithTheNextCheckpointBatch()
    {
        var (grain, _, _, _) = await JoinedAsync();
        var claimed = await grain.NextPrompt("connection-1", skip: false);
        Clock.Advance(TimeSpan.FromMinutes(3));

        await grain.StartTake("connection-1");

        var renewedUntil = Clock.GetUtcNow().AddMinutes(10);
        await Eventually.TrueAsync(async () =>
        {
            var task = await app.WithDbAsync(db => db.RecordingTasks.AsNoTracking().SingleAsync(t => t.Id == claimed.Prompt!.TaskId));
            return (task.ClaimExpiresAt!.Value - renewedUntil).Duration() < TimeSpan.FromMilliseconds(1);
        }, "the renewal queued by StartTake to be written", s_wait);
    }

    [Fact]
    public async Task ClosingASessionKeepsItsTimeAndGivesItsPromptBack()
    {
        var (grain, sessionId, _, _) = await JoinedAsync();
        await grain.NextPrompt("connection-1", skip: false);
        Clock.Advance(TimeSpan.FromSeconds(7));
        await grain.Ping("connection-1", "review");

        await grain.Leave("connection-1");

        var row = await RowAsync(sessionId);
        row.State.ShouldBe(WorkerSessionState.Closed);
        row.ActiveMs.ShouldBe(7_000);
        (await app.WithDbAsync(db => db.RecordingTasks.CountAsync(t => t.ClaimedBySessionId == sessionId))).ShouldBe(0);
    }

    [Fact]
    public async Task TheEarnedFigureOfTheSessionEqualsTheLedgersAccrualAfterSubmit()
    {
        var (client, job, user, _) = await RecordingHubTests.JoinedAsync(app);
        await using var _ = client;
        var speech = await TestAudio.SpeechSamplesAsync();
        var takeId = await RecordingHubTests.PromptAndTakeAsync(client, job.Id);
        Clock.Advance(TimeSpan.FromMilliseconds(4_321)); // an odd time, so that rounding shows
        ((bool)(await RecordingHubTests.RecordWholeTakeAsync(client, takeId, speech))!["passed"]!).ShouldBeTrue();

        var submitted = await client.InvokeAsync("Submit", takeId, null);

        var session = (Guid)submitted!["session"]!["sessionId"]!;
        var accrual = await app.WithDbAsync(db => db.Set<EarningsAccrualRow>().AsNoTracking().SingleAsync(a => a.SessionId == session));
        ((long)submitted["session"]!["earned"]!["minor"]!).ShouldBe(accrual.AccruedMinor);
        ((long)submitted["session"]!["activeMs"]!).ShouldBe(accrual.ActiveMsTotal);
        accrual.AccruedMinor.ShouldBe(PayCalculator.PayForActiveTime(4_321, 3000));
        (await PayableAsync(user)).Minor.ShouldBe(accrual.AccruedMinor);
    }

    [Fact]
    public async Task AudioIsAnalysedWhileTheSessionsCheckpointWaitsForTheDatabase()
    {
        var (grain, sessionId, _, _) = await JoinedAsync();
        (await grain.NextPrompt("connection-1", skip: false)).Status.ShouldBe("prompt");
        var take = await grain.StartTake("connection-1");
        await grain.BeginStream("connection-1", take.TakeId);
        var chunk = MemoryMarshal.AsBytes((await TestAudio.SpeechSamplesAsync()).AsSpan(8_000, 1_600)).ToArray();
        await using var scope = app.Services.CreateAsyncScope();
        var holder = scope.ServiceProvider.GetRequiredService<CrowdDb>();
        await using var locked = await holder.Database.BeginTransactionAsync();
        await holder.Database.ExecuteSqlAsync($"SELECT 1 FROM worker_sessions WHERE id = {sessionId} FOR UPDATE");

        var checkpoint = grain.Checkpoint();
        await Eventually.TrueAsync(async () => await TestPostgres.ScalarAsync<long>(app.ConnectionString,
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()") > 0, "the checkpoint to wait for the row", s_wait);
        var outcome = await grain.Append("connection-1", take.TakeId, 0, chunk, 16_000).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        outcome.Error.ShouldBeNull(outcome.Error);
        outcome.Frames.ShouldNotBeEmpty("the speech is analysed while the checkpoint waits");
        checkpoint.IsCompleted.ShouldBeFalse("the checkpoint is still waiting for the row");
        await locked.RollbackAsync();
        await checkpoint;
        (await RowAsync(sessionId)).CurrentTakeId.ShouldBe(take.TakeId);
    }

    [Fact]
    public async Task CheckpointsWrittenTogetherStillPayEachSessionWhenOneOfThemIsRefused()
    {
        var (good, goodId, _, goodUser) = await JoinedAsync();
        var (bad, badId, badJob, _) = await JoinedAsync();
        Clock.Advance(TimeSpan.FromSeconds(3));
        await good.Ping("connection-1", "mic_check");
        await bad.Ping("connection-1", "mic_check");
        await bad.Checkpoint(); // its pay row now names its contributor
        var checkpoints = app.Services.GetRequiredService<SessionCheckpoints>();

        var now = Clock.GetUtcNow();
        var goodWrite = checkpoints.WriteAsync(new SessionCheckpoint(goodId, goodUser, (await RowAsync(goodId)).JobId, 3_000, now, null, -1, true, true));
        var badWrite = checkpoints.WriteAsync(new SessionCheckpoint(badId, Guid.NewGuid(), badJob.Id, 4_000, now, null, -1, true, true));

        (await goodWrite).ShouldBeTrue();
        await Should.ThrowAsync<InvalidOperationException>(badWrite);
        (await RowAsync(goodId)).ActiveMs.ShouldBe(3_000);
        (await PayableAsync(goodUser)).Minor.ShouldBe(PayCalculator.PayForActiveTime(3_000, 3000));
        (await RowAsync(badId)).ActiveMs.ShouldBe(3_000, "the refused checkpoint wrote nothing");
    }

    private sealed class SilentObserver : ISessionObserver
    {
        public Task Moved(string reason) => Task.CompletedTask;
    }
}
