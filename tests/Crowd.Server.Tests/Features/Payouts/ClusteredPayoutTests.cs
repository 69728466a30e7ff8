using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Crowd.Server.Tests.Features.Payouts;

/// <summary>
/// The real server as separate processes on one database: Hangfire's recurring payout job on a two-second schedule
/// (standing in for the hourly one), and a crash by SIGKILL mid-run. The tests wait for what the servers do, never a
/// fixed time.
/// </summary>
public sealed class ClusteredPayoutTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    private readonly FakeTimeProvider _time = new(MoneyWorld.ClockStart);
    private string _db = "";

    public Task DisposeAsync() => Task.CompletedTask;

    private string _owner = "";

    public async Task InitializeAsync()
    {
        var created = await TestPostgres.CreateDatabaseAsync();
        // As in production: the servers run as the application role and migrate as the owner, so Hangfire's schema must be
        // usable by a role that owns none of it.
        _db = await TestPostgres.As(created, DatabaseRole.Application);
        _owner = await TestPostgres.As(created, DatabaseRole.Owner);
    }

    private Dictionary<string, string> Environment(string? holdAt = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Crowd"] = _db,
            ["ConnectionStrings__CrowdOwner"] = _owner,
            // Six fields, seconds first: every two seconds.
            ["Crowd__Payouts__Cron"] = "*/2 * * * * *",
            ["Crowd__Payouts__MinimumMinor"] = "100",
            ["Crowd__Scheduler__PollSeconds"] = "1",
            ["Crowd__Scheduler__TakeoverSeconds"] = "30",
        };
        if (holdAt is not null)
        {
            environment["Crowd__Payouts__HoldAtStep"] = holdAt;
        }
        return environment;
    }

    [Fact]
    public async Task TwoServersOnOneDatabaseRunEachScheduledPayoutOnceNotTwice()
    {
        var contributors = new List<Guid>();
        await using (var seed = MoneyWorld.Open(_db))
        {
            var job = await MoneyWorld.JobAsync(seed, hourlyRateMinor: 3000);
            for (var i = 0; i < 10; i++)
            {
                var c = await MoneyWorld.ContributorWithBankAccountAsync(seed, "C" + i);
                await EarningsAccrual.AccrueAsync(seed, Guid.CreateVersion7(), c, job.Id, (i + 1) * 600_000, _time);
                contributors.Add(c);
            }
        }
        string[] logs;
        var (a, _) = await ServerProcess.StartAsync(Environment());
        await using (a)
        {
            var (b, _) = await ServerProcess.StartAsync(Environment());
            await using (b)
            {
                await Eventually.TrueAsync(async () => await JobServersAsync() == 2, "both servers to join", s_wait);
                var joined = await FinishedRunsAsync();
                // Runs while both serve, each period's job taken by whichever server fetches it first.
                await Eventually.TrueAsync(async () => await FinishedRunsAsync() >= joined + 4,
                    "four more payout periods with both servers up", s_wait);
                await Task.WhenAll(a.StopAsync(), b.StopAsync());
                logs = [a.Output, b.Output];
            }
        }

        await using var db = MoneyWorld.Open(_db);
        var runs = await db.Set<PayoutRun>().OrderBy(r => r.RunKey).ToListAsync();
        output.WriteLine(string.Join("\n", runs.Select(r => $"{r.RunKey} {r.Node} attempts {r.Attempts}")));
        runs.Count.ShouldBeGreaterThanOrEqualTo(4);
        runs.ShouldAllBe(r => r.Attempts == 1 && r.FinishedAt != null, "each period started once, on one node, and finished");
        var times = runs.Select(r => DateTimeOffset.Parse(r.RunKey, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        times.ShouldAllBe(t => t.Second % 2 == 0, "runs are keyed by the period they are for, not by when they started");
        times.Zip(times.Skip(1), (x, y) => (y - x).TotalSeconds).ShouldAllBe(gap => gap == 2, "one run per period, none skipped");
        foreach (var c in contributors)
        {
            (await db.Set<Payout>().CountAsync(p => p.ContributorId == c)).ShouldBe(1, "paid by exactly one run on one node");
        }
        var fired = logs.SelectMany(Fired).ToList();
        output.WriteLine(string.Join("\n", fired));
        fired.ShouldBeUnique("each period's job fired on one server, once");
        fired.ShouldBe(runs.Select(r => r.RunKey), ignoreOrder: true, "and every period that ran was fired");
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    /// <summary>The periods a server's payout job fired for, from its log.</summary>
    private static IEnumerable<string> Fired(string log) =>
        System.Text.RegularExpressions.Regex.Matches(log, "Payout job fired for (\\S+)").Select(m => m.Groups[1].Value);

    [Fact]
    public async Task AServerKilledInTheMiddleOfAPayoutRunLosesNothingAndTheNextServerPaysEachContributorOnce()
    {
        List<Guid> contributors;
        await using (var db = MoneyWorld.Open(_db))
        {
            var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
            contributors = [];
            for (var i = 0; i < 20; i++)
            {
                var c = await MoneyWorld.ContributorWithBankAccountAsync(db, "C" + i);
                await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), c, job.Id, (i + 1) * 600_000, _time);
                contributors.Add(c);
            }
        }

        string killedRun;
        var (doomed, _) = await ServerProcess.StartAsync(Environment(holdAt: nameof(PayoutStep.BeforeProviderCall)));
        await using (doomed)
        {
            await Eventually.TrueAsync(() => Task.FromResult(doomed.Output.Contains("holding at step", StringComparison.Ordinal)), "the run to reach the step", s_wait);
            doomed.Kill();
        }
        await using (var db = MoneyWorld.Open(_db))
        {
            (await db.Set<Payout>().CountAsync(p => p.State == PayoutState.Created)).ShouldBe(20, "killed after creating the payouts, before sending them");
            killedRun = (await db.Set<PayoutRun>().SingleAsync()).RunKey;
            await MoneyWorld.LedgerIsSoundAsync(db);
        }

        var (survivor, _) = await ServerProcess.StartAsync(Environment());
        await using (survivor)
        {
            await Eventually.TrueAsync(async () =>
            {
                await using var db = MoneyWorld.Open(_db);
                return await db.Set<Payout>().CountAsync(p => p.State == PayoutState.Sent) == 20;
            }, "the surviving server to send the payouts", s_wait);
            var afterSending = await FinishedRunsAsync();
            await Eventually.TrueAsync(async () => await FinishedRunsAsync() >= afterSending + 2,
                "two more periods, which must find nothing to do", s_wait);
            // Hangfire gives the dead server's job to the survivor once its invisibility ends; it finishes that very run.
            await Eventually.TrueAsync(async () =>
            {
                await using var db = MoneyWorld.Open(_db);
                return await db.Set<PayoutRun>().AnyAsync(r => r.RunKey == killedRun && r.FinishedAt != null);
            }, "the killed run to be taken over and finished", TimeSpan.FromSeconds(120));
            await survivor.StopAsync();
        }

        await using (var db = MoneyWorld.Open(_db))
        {
            (await db.Set<PayoutRun>().SingleAsync(r => r.RunKey == killedRun)).Attempts.ShouldBe(2, "started on the killed server, resumed on the survivor");
            (await db.Set<Payout>().CountAsync()).ShouldBe(20);
            foreach (var c in contributors)
            {
                var accrued = await db.Set<EarningsAccrualRow>().Where(a => a.ContributorId == c).SumAsync(a => a.AccruedMinor);
                (await db.Set<Payout>().Where(p => p.ContributorId == c).SumAsync(p => p.AmountMinor)).ShouldBe(accrued);
                (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(c, "CNY"))).Minor.ShouldBe(0);
            }
            (await db.Set<BankPayoutBatch>().CountAsync()).ShouldBe(1);
            await MoneyWorld.LedgerIsSoundAsync(db);
        }
    }

    private async Task<long> JobServersAsync()
    {
        await using var db = MoneyWorld.Open(_db);
        return await db.Database.SqlQuery<long>($"""SELECT count(*) AS "Value" FROM hangfire.server""").SingleAsync();
    }

    private async Task<int> FinishedRunsAsync()
    {
        await using var db = MoneyWorld.Open(_db);
        return await db.Set<PayoutRun>().CountAsync(r => r.FinishedAt != null);
    }

}
