using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Escrow;

/// <summary>
/// The escrow never goes below zero, and pay for time is never withheld for it: what the escrow cannot cover the platform
/// advances, and the job's next funding repays first.
/// </summary>
public sealed class EscrowAdvanceTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(MoneyWorld.ClockStart);
    private string _db = "";

    public async Task InitializeAsync() => _db = await TestPostgres.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private EscrowService Escrow(CrowdDb db) => new(db, _time, NullLogger<EscrowService>.Instance);

    private static async Task<long> BalanceAsync(CrowdDb db, AccountRef account) => (await LedgerQueries.BalanceAsync(db, account)).Minor;

    [Fact]
    public async Task PayTheEscrowCannotCoverIsAdvancedByThePlatformAndTheNextFundingRepaysItFirst()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
        var admin = await MoneyWorld.UserAsync(db, "Admin");
        var contributor = await MoneyWorld.UserAsync(db);
        await Escrow(db).RecordBankTransferAsync(job.Id, new Money(2_000, "CNY"), "ICBC-1", admin);

        var accrued = await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), contributor, job.Id, 3_600_000, _time);

        accrued.PostedMinor.ShouldBe(3_000, "the whole hour is paid");
        (await BalanceAsync(db, AccountRef.Payable(contributor, "CNY"))).ShouldBe(3_000);
        (await BalanceAsync(db, AccountRef.Escrow(job.Id, "CNY"))).ShouldBe(0, "the escrow gives what it holds and no more");
        (await BalanceAsync(db, AccountRef.Advance(job.Id, "CNY"))).ShouldBe(-1_000, "the platform advanced the rest");
        var status = (await JobFunding.StatusAsync(db, job.Id))!;
        (status.Escrow, status.Advanced).ShouldBe((new Money(-1_000, "CNY"), new Money(1_000, "CNY")));

        var funded = await Escrow(db).RecordBankTransferAsync(job.Id, new Money(5_000, "CNY"), "ICBC-2", admin);

        funded.Escrow.ShouldBe(new Money(4_000, "CNY"));
        (await BalanceAsync(db, AccountRef.Advance(job.Id, "CNY"))).ShouldBe(0, "the funding repaid the advance first");
        (await BalanceAsync(db, AccountRef.Escrow(job.Id, "CNY"))).ShouldBe(4_000);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task ClosingRepaysWhatThePlatformAdvancedBeforeRefundingTheRest()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
        var contributor = await MoneyWorld.UserAsync(db);
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), contributor, job.Id, 3_600_000, _time); // 3,000 advanced
        await MoneyWorld.FundAsync(db, job.Id, 10_000); // money that reached the escrow without repaying first
        await db.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Closed));

        var refunded = await Escrow(db).RefundOnCloseAsync(job.Id);

        refunded.ShouldBe(new Money(7_000, "CNY"));
        (await BalanceAsync(db, AccountRef.Escrow(job.Id, "CNY"))).ShouldBe(0);
        (await BalanceAsync(db, AccountRef.Advance(job.Id, "CNY"))).ShouldBe(0);
        (await BalanceAsync(db, AccountRef.Payable(contributor, "CNY"))).ShouldBe(3_000);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task ConcurrentAccrualsOnOneJobNeverTakeItsEscrowBelowZeroAndLoseNoPay()
    {
        Guid jobId;
        await using (var db = MoneyWorld.Open(_db))
        {
            jobId = (await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000)).Id;
            await MoneyWorld.FundAsync(db, jobId, 10_000);
        }
        var contributors = new List<Guid>();
        await using (var db = MoneyWorld.Open(_db))
        {
            for (var i = 0; i < 8; i++)
            {
                contributors.Add(await MoneyWorld.UserAsync(db, "Contributor " + i));
            }
        }

        // Eight sessions, each with its own connection, accrue an hour each at the same moment: 24,000 against 10,000 held.
        using var start = new SemaphoreSlim(0);
        var accruals = contributors.Select(async contributor =>
        {
            await using var db = MoneyWorld.Open(_db);
            await db.Database.OpenConnectionAsync();
            await start.WaitAsync();
            return await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), contributor, jobId, 3_600_000, _time);
        }).ToList();
        start.Release(accruals.Count);
        var results = await Task.WhenAll(accruals);

        results.Sum(r => r.PostedMinor).ShouldBe(24_000);
        await using var check = MoneyWorld.Open(_db);
        (await BalanceAsync(check, AccountRef.Escrow(jobId, "CNY"))).ShouldBe(0);
        (await BalanceAsync(check, AccountRef.Advance(jobId, "CNY"))).ShouldBe(-14_000);
        foreach (var contributor in contributors)
        {
            (await BalanceAsync(check, AccountRef.Payable(contributor, "CNY"))).ShouldBe(3_000);
        }
        await MoneyWorld.LedgerIsSoundAsync(check);
    }

    [Fact]
    public async Task ACardPaymentOfTheLargestLongIsRefusedAndFundsNothing()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await MoneyWorld.JobAsync(db);

        var result = await Escrow(db).RecordStripePaymentAsync(job.Id, new Money(long.MaxValue, "CNY"), "pi_typo");

        result.Outcome.ShouldBe(FundingOutcome.Refused);
        result.Errors.ShouldHaveSingleItem().Field.ShouldBe("amount");
        (await BalanceAsync(db, AccountRef.Escrow(job.Id, "CNY"))).ShouldBe(0);
        (await db.Set<LedgerTransaction>().CountAsync(t => t.IdempotencyKey == "funding:stripe:pi_typo")).ShouldBe(0);
    }

    [Fact]
    public async Task ACheckpointWhosePayDoesNotFitAnAmountIsRefusedNamingTheRateAndWritesNothing()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 100_000_000);
        var contributor = await MoneyWorld.UserAsync(db);
        var session = Guid.CreateVersion7();
        await EarningsAccrual.AccrueAsync(db, session, contributor, job.Id, 60_000, _time);

        var refused = await Should.ThrowAsync<AmountOutOfRangeException>(() =>
            EarningsAccrual.AccrueAsync(db, session, contributor, job.Id, long.MaxValue, _time));

        refused.Field.ShouldBe("hourlyRate");
        (await db.Set<EarningsAccrualRow>().SingleAsync(a => a.SessionId == session)).ActiveMsTotal.ShouldBe(60_000);
        (await BalanceAsync(db, AccountRef.Payable(contributor, "CNY"))).ShouldBe(1_666_667);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }
}
