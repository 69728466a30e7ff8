using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Crowd.Server.Tests.Features.Earnings;

public sealed class EarningsAccrualTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(MoneyWorld.ClockStart);
    private string _db = "";

    public async Task InitializeAsync() => _db = await TestPostgres.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task ACheckpointAccruesActiveTimeTimesTheRateFromEscrowToTheContributor()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
        await MoneyWorld.FundAsync(db, job.Id, 100_000);
        var contributor = await MoneyWorld.UserAsync(db);
        var session = Guid.CreateVersion7();

        var result = await EarningsAccrual.AccrueAsync(db, session, contributor, job.Id, 20 * 60_000, _time);

        result.AccruedTotal.Minor.ShouldBe(1000);
        (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(contributor, "CNY"))).Minor.ShouldBe(1000);
        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job.Id, "CNY"))).Minor.ShouldBe(99_000);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task ReplayedStaleAndRepeatedCheckpointsAccrueOnlyTheDifference()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
        var contributor = await MoneyWorld.UserAsync(db);
        var session = Guid.CreateVersion7();

        await EarningsAccrual.AccrueAsync(db, session, contributor, job.Id, 10 * 60_000, _time);
        await EarningsAccrual.AccrueAsync(db, session, contributor, job.Id, 10 * 60_000, _time);
        await EarningsAccrual.AccrueAsync(db, session, contributor, job.Id, 5 * 60_000, _time);
        var last = await EarningsAccrual.AccrueAsync(db, session, contributor, job.Id, 30 * 60_000, _time);

        last.AccruedTotal.Minor.ShouldBe(1500);
        last.PostedMinor.ShouldBe(1000);
        (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(contributor, "CNY"))).Minor.ShouldBe(1500);
        (await db.Set<LedgerTransaction>().CountAsync(t => t.Reference.Contains(session.ToString()))).ShouldBe(2);
    }

    [Fact]
    public async Task AnAccrualRolledBackWithTheCheckpointsTransactionLeavesNothingBehind()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
        var contributor = await MoneyWorld.UserAsync(db);
        var session = Guid.CreateVersion7();

        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            await EarningsAccrual.AccrueAsync(db, session, contributor, job.Id, 60 * 60_000, _time);
            await tx.RollbackAsync(); // the process died before the session checkpoint committed
        }
        var retried = await EarningsAccrual.AccrueAsync(db, session, contributor, job.Id, 60 * 60_000, _time);

        retried.PostedMinor.ShouldBe(3000);
        (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(contributor, "CNY"))).Minor.ShouldBe(3000);
    }

    [Fact]
    public async Task AJobPricedBelowItsRegionsFloorStillPaysTheFloor()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 2000, region: "CN-BJ"); // floor 27.70 CNY
        var contributor = await MoneyWorld.UserAsync(db);

        var result = await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), contributor, job.Id, 3_600_000, _time);

        result.AccruedTotal.Minor.ShouldBe(2770);
    }

    [Fact]
    public async Task DisclosedFeesComeFromEscrowOnTopOfPayNeverOutOfIt()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 4000);
        db.Add(new JobBudget { JobId = job.Id, TargetHours = 10, PlatformFeeBp = 1000, SupplierFeeBp = 500, UpdatedAt = _time.GetUtcNow() });
        await db.SaveChangesAsync();
        var contributor = await MoneyWorld.UserAsync(db);
        var supplier = await Suppliers.SupplierWorld.SupplierAsync(db);
        await Suppliers.SupplierWorld.AttributeAsync(db, contributor, supplier, _time.GetUtcNow());

        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), contributor, job.Id, 3_600_000, _time);

        (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(contributor, "CNY"))).Minor.ShouldBe(4000);
        (await LedgerQueries.BalanceAsync(db, AccountRef.PlatformFee("CNY"))).Minor.ShouldBeGreaterThanOrEqualTo(400);
        (await LedgerQueries.BalanceAsync(db, AccountRef.SupplierFee(supplier, "CNY"))).Minor.ShouldBe(200);
        // The escrow was never funded: it stays at zero and the platform advanced pay and fees, which the requester owes.
        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job.Id, "CNY"))).Minor.ShouldBe(0);
        (await LedgerQueries.BalanceAsync(db, AccountRef.Advance(job.Id, "CNY"))).Minor.ShouldBe(-4600);
        (await JobFunding.StatusAsync(db, job.Id))!.Escrow.Minor.ShouldBe(-4600);
    }

    [Fact]
    public async Task NegativeTimeIsRefusedAndAnUnknownJobNamesTheJob()
    {
        await using var db = MoneyWorld.Open(_db);
        var contributor = await MoneyWorld.UserAsync(db);

        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => EarningsAccrual.AccrueAsync(db, Guid.NewGuid(), contributor, Guid.NewGuid(), -1, _time));
        var missing = Guid.NewGuid();
        (await Should.ThrowAsync<InvalidOperationException>(() => EarningsAccrual.AccrueAsync(db, Guid.NewGuid(), contributor, missing, 1000, _time)))
            .Message.ShouldContain(missing.ToString());
    }

    [Fact]
    public async Task OverRandomSessionsNoContributorsEffectiveRateOnAnyJobIsBelowTheFloor()
    {
        await using var db = MoneyWorld.Open(_db);
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var floors = await db.RateFloors.ToDictionaryAsync(f => f.Region, f => f.FloorMinor);
        var jobs = new List<(Guid Id, long Rate, string Currency, string Region)>();
        foreach (var (region, currency) in new[] { ("CN-BJ", "CNY"), ("GB", "GBP"), ("US", "USD"), ("DE", "EUR") })
        {
            foreach (var offset in new[] { -500, 0, 1, 777 })
            {
                var rate = floors[region] + offset; // some priced below the floor by mistake: pay must still reach it
                var job = await MoneyWorld.JobAsync(db, rate, currency, region);
                jobs.Add((job.Id, rate, currency, region));
            }
        }
        var contributors = new List<Guid>();
        for (var i = 0; i < 12; i++)
        {
            contributors.Add(await MoneyWorld.UserAsync(db, "Contributor " + i));
        }

        for (var s = 0; s < 80; s++)
        {
            var job = jobs[random.Next(jobs.Count)];
            var contributor = contributors[random.Next(contributors.Count)];
            var session = Guid.CreateVersion7();
            long active = 0;
            var checkpoints = random.Next(1, 8);
            for (var c = 0; c < checkpoints; c++)
            {
                // slow, fast, idle-heavy: active time grows by anything from 1 ms to 20 minutes; some checkpoints are replayed
                active += random.Next(4) == 0 ? 0 : random.Next(1, 20 * 60_000);
                await EarningsAccrual.AccrueAsync(db, session, contributor, job.Id, active, _time);
                if (random.Next(5) == 0)
                {
                    await EarningsAccrual.AccrueAsync(db, session, contributor, job.Id, Math.Max(0, active - random.Next(60_000)), _time);
                }
            }
        }

        var shown = 0;
        foreach (var contributor in contributors)
        {
            var report = await EarningsReport.ForContributorAsync(db, contributor);
            foreach (var line in report.Jobs)
            {
                var job = jobs.Single(j => j.Id == line.JobId);
                var floor = floors[job.Region];
                line.EffectiveHourlyRate?.Minor.ShouldBeGreaterThanOrEqualTo(Math.Max(floor, job.Rate), $"job {job.Id} seed {seed}");
                (line.Accrued.Minor * 3_600_000m).ShouldBeGreaterThanOrEqualTo(line.ActiveMs * (decimal)Math.Max(floor, job.Rate));
                shown++;
            }
        }
        shown.ShouldBeGreaterThan(20);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }
}
