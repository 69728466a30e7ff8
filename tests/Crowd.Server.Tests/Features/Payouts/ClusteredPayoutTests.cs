using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace Crowd.Server.Tests.Features.Payouts;

/// <summary>The real server as separate processes on one database: Quartz clustering, and a crash by SIGKILL mid-run.</summary>
public sealed class ClusteredPayoutTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly FakeTime _time = new();
    private string _db = "";

    public async Task InitializeAsync() => _db = await TestPostgres.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private Dictionary<string, string> Environment(string? holdAt = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Crowd"] = _db,
            ["Crowd__Payouts__Cron"] = "0/2 * * * * ?",
            ["Crowd__Payouts__MinimumMinor"] = "100",
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
        var (a, _) = await ServerProcess.StartAsync(Environment());
        await using (a)
        {
            var (b, _) = await ServerProcess.StartAsync(Environment());
            await using (b)
            {
                await Task.Delay(TimeSpan.FromSeconds(12));
                await Task.WhenAll(a.StopAsync(), b.StopAsync());
            }
        }

        await using var db = MoneyWorld.Open(_db);
        var runs = await db.Set<PayoutRun>().OrderBy(r => r.RunKey).ToListAsync();
        output.WriteLine(string.Join("\n", runs.Select(r => $"{r.RunKey} {r.Node} attempts {r.Attempts}")));
        runs.Count.ShouldBeGreaterThanOrEqualTo(4);
        runs.ShouldAllBe(r => r.Attempts == 1 && r.FinishedAt != null);
        var times = runs.Select(r => DateTimeOffset.Parse(r.RunKey, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        times.Zip(times.Skip(1), (x, y) => (y - x).TotalSeconds).ShouldAllBe(gap => gap == 2, "one run per scheduled time, none skipped");
        (await db.Database.SqlQuery<long>($"""SELECT count(DISTINCT instance_name) AS "Value" FROM qrtz_scheduler_state""").SingleAsync()).ShouldBe(2, "both nodes joined the cluster");
        foreach (var c in contributors)
        {
            (await db.Set<Payout>().CountAsync(p => p.ContributorId == c)).ShouldBe(1, "paid by exactly one run on one node");
        }
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

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

        var (doomed, _) = await ServerProcess.StartAsync(Environment(holdAt: nameof(PayoutStep.BeforeProviderCall)));
        await using (doomed)
        {
            await WaitForAsync(() => Task.FromResult(doomed.Output.Contains("holding at step", StringComparison.Ordinal)), "the run to reach the step");
            doomed.Kill();
        }
        await using (var db = MoneyWorld.Open(_db))
        {
            (await db.Set<Payout>().CountAsync(p => p.State == PayoutState.Created)).ShouldBe(20, "killed after creating the payouts, before sending them");
            await MoneyWorld.LedgerIsSoundAsync(db);
        }

        var (survivor, _) = await ServerProcess.StartAsync(Environment());
        await using (survivor)
        {
            await WaitForAsync(async () =>
            {
                await using var db = MoneyWorld.Open(_db);
                return await db.Set<Payout>().CountAsync(p => p.State == PayoutState.Sent) == 20;
            }, "the surviving server to send the payouts");
            await Task.Delay(TimeSpan.FromSeconds(3)); // a few more fires: they must find nothing to do
            await survivor.StopAsync();
        }

        await using (var db = MoneyWorld.Open(_db))
        {
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

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Timed out waiting for " + what);
            }
            await Task.Delay(250);
        }
    }
}
