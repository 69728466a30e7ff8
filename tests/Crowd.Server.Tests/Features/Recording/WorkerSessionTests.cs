using Crowd.Server.Tests.Infrastructure;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Features.Recording.Tasks;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Tests.Features.Recording;

public sealed class WorkerSessionTests(RecordingApp app) : IClassFixture<RecordingApp>
{
    private readonly FakeTime _clock = new(DateTimeOffset.UtcNow);
    private readonly SessionRegistry _registry = new();

    private async Task<T> WithSessionsAsync<T>(Func<WorkerSessions, CrowdDb, Task<T>> work)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CrowdDb>();
        var options = Options.Create(new CrowdOptions());
        return await work(new WorkerSessions(db, _registry, new TaskClaims(db, _clock, options), _clock, options,
            scope.ServiceProvider.GetRequiredService<Crowd.Server.Features.Notifications.Notifications>()), db);
    }

    private async Task<(LiveSession Live, TestJob Job, Guid User)> OpenAsync()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 2);
        var user = await RecordingTestData.ContributorAsync(app, job);
        var live = await WithSessionsAsync(async (s, db) => await s.OpenAsync(await db.Jobs.SingleAsync(j => j.Id == job.Id), user.Id, default));
        return (live, job, user.Id);
    }

    private Task<WorkerSession> RowAsync(Guid id) => app.WithDbAsync(db => db.WorkerSessions.AsNoTracking().SingleAsync(s => s.Id == id));

    [Fact]
    public async Task ACheckpointWritesTheActiveTimeSoFar()
    {
        var (live, _, _) = await OpenAsync();
        for (var i = 0; i < 10; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            live.Clock.Touch(_clock.GetUtcNow());
        }

        await WithSessionsAsync((s, _) => s.CheckpointAsync(default));

        var row = await RowAsync(live.Id);
        row.ActiveMs.ShouldBe(10_000);
        row.LastCheckpointAt.ShouldBe(_clock.GetUtcNow(), TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task AnIdleContributorIsPaidUpToTheCutoffAndNoMore()
    {
        var (live, _, _) = await OpenAsync();
        _clock.Advance(TimeSpan.FromSeconds(5));
        live.Clock.Touch(_clock.GetUtcNow());

        _clock.Advance(TimeSpan.FromMinutes(30));
        await WithSessionsAsync((s, _) => s.CheckpointAsync(default));

        (await RowAsync(live.Id)).ActiveMs.ShouldBe(5_000 + 120_000);
    }

    [Fact]
    public async Task ReopeningAfterTheNodeForgotTheSessionResumesItWithTheCheckpointedTime()
    {
        var (live, job, user) = await OpenAsync();
        _clock.Advance(TimeSpan.FromSeconds(42));
        live.Clock.Touch(_clock.GetUtcNow());
        await WithSessionsAsync((s, _) => s.CheckpointAsync(default));
        _registry.Remove(live); // what a crash does to the live half

        var resumed = await WithSessionsAsync(async (s, db) => await s.OpenAsync(await db.Jobs.SingleAsync(j => j.Id == job.Id), user, default));

        resumed.Id.ShouldBe(live.Id);
        resumed.Clock.Settle(_clock.GetUtcNow()).ShouldBe(42_000);
    }

    [Fact]
    public async Task ClaimsOfWorkingContributorsAreRenewedAndIdleOnesAreLetGo()
    {
        var (live, job, user) = await OpenAsync();
        var claim = await WithSessionsAsync(async (_, db) =>
            (await new TaskClaims(db, _clock, Options.Create(new CrowdOptions())).ClaimNextAsync(live.Id, job.Id, user, [], default)).Task!);

        _clock.Advance(TimeSpan.FromMinutes(1));
        live.Clock.Touch(_clock.GetUtcNow());
        await WithSessionsAsync((s, _) => s.CheckpointAsync(default));
        var renewed = await app.WithDbAsync(db => db.RecordingTasks.SingleAsync(t => t.Id == claim.TaskId));
        renewed.ClaimExpiresAt!.Value.ShouldBe(_clock.GetUtcNow().AddMinutes(10), TimeSpan.FromMilliseconds(1));

        _clock.Advance(TimeSpan.FromMinutes(5)); // no connection, no activity
        await WithSessionsAsync((s, _) => s.CheckpointAsync(default));

        _registry.TryGet(live.Id, out _).ShouldBeFalse();
        (await RowAsync(live.Id)).ActiveMs.ShouldBe(60_000 + 120_000);
    }

    [Fact]
    public async Task ASessionTakenOverByAnotherNodeIsLetGoHereAndRefusedThereUntilItsLeaseLapses()
    {
        var (live, _, _) = await OpenAsync();
        await app.WithDbAsync(db => db.WorkerSessions.Where(s => s.Id == live.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.NodeId, "other-node").SetProperty(x => x.ConnectionId, "their-connection")
                .SetProperty(x => x.LastCheckpointAt, _clock.GetUtcNow())));

        (await WithSessionsAsync((s, _) => s.HeldElsewhereAsync(live.Id, default))).ShouldBeTrue();
        await WithSessionsAsync((s, _) => s.CheckpointAsync(default));

        _registry.TryGet(live.Id, out _).ShouldBeFalse("the other node has it now");
        live.Closed.ShouldBeTrue();
        _clock.Advance(TimeSpan.FromSeconds(31)); // that node stopped checkpointing: it crashed
        (await WithSessionsAsync((s, _) => s.HeldElsewhereAsync(live.Id, default))).ShouldBeFalse();
    }

    [Fact]
    public async Task ClosingASessionKeepsItsTimeAndGivesItsPromptBack()
    {
        var (live, job, user) = await OpenAsync();
        await WithSessionsAsync(async (_, db) =>
            (await new TaskClaims(db, _clock, Options.Create(new CrowdOptions())).ClaimNextAsync(live.Id, job.Id, user, [], default)).Task!);
        _clock.Advance(TimeSpan.FromSeconds(7));
        live.Clock.Touch(_clock.GetUtcNow());

        await WithSessionsAsync(async (s, _) => { await s.CloseAsync(live.Id, default); return 0; });

        var row = await RowAsync(live.Id);
        row.State.ShouldBe(WorkerSessionState.Closed);
        row.ActiveMs.ShouldBe(7_000);
        (await app.WithDbAsync(db => db.RecordingTasks.CountAsync(t => t.ClaimedBySessionId == live.Id))).ShouldBe(0);
    }
}
