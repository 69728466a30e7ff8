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

public sealed class EscrowTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(MoneyWorld.ClockStart);
    private string _db = "";

    public async Task InitializeAsync() => _db = await TestPostgres.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private EscrowService Escrow(CrowdDb db) => new(db, _time, NullLogger<EscrowService>.Instance);

    [Fact]
    public async Task AJobIsCoveredOnlyOnceItsEscrowHoldsTargetHoursTimesRatePlusFees()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
        var admin = await MoneyWorld.UserAsync(db, "Admin");
        (await Escrow(db).SetBudgetAsync(job.Id, targetHours: 10, platformFeeBp: 1000, supplierFeeBp: 500)).ShouldBeEmpty();

        (await JobFunding.StatusAsync(db, job.Id))!.Budget.Minor.ShouldBe(34_500); // 30,000 pay + 3,000 platform + 1,500 supplier
        (await JobFunding.CoversBudgetAsync(db, job.Id)).ShouldBeFalse();

        (await Escrow(db).RecordBankTransferAsync(job.Id, new Money(34_499, "CNY"), "ICBC-0001", admin)).Outcome.ShouldBe(FundingOutcome.Recorded);
        (await JobFunding.CoversBudgetAsync(db, job.Id)).ShouldBeFalse();
        (await JobFunding.IsLiveAsync(db, job.Id)).ShouldBeFalse();

        (await Escrow(db).RecordBankTransferAsync(job.Id, new Money(1, "CNY"), "ICBC-0002", admin)).Outcome.ShouldBe(FundingOutcome.Recorded);
        (await JobFunding.CoversBudgetAsync(db, job.Id)).ShouldBeTrue();
        (await JobFunding.IsLiveAsync(db, job.Id)).ShouldBeTrue();
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task AJobWithoutABudgetIsNeverCovered()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await MoneyWorld.JobAsync(db);
        await MoneyWorld.FundAsync(db, job.Id, 1_000_000);

        (await JobFunding.CoversBudgetAsync(db, job.Id)).ShouldBeFalse();
        (await JobFunding.CoversBudgetAsync(db, Guid.NewGuid())).ShouldBeFalse();
    }

    [Fact]
    public async Task BadFundingIsRefusedWithAReasonAndARepeatedBankReferenceCountsOnce()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await MoneyWorld.JobAsync(db, currency: "CNY");
        var admin = await MoneyWorld.UserAsync(db, "Admin");
        var escrow = Escrow(db);

        var wrongCurrency = await escrow.RecordBankTransferAsync(job.Id, new Money(1000, "USD"), "REF-1", admin);
        wrongCurrency.Outcome.ShouldBe(FundingOutcome.Refused);
        wrongCurrency.Errors.ShouldContain(e => e.Field == "currency" && e.Arguments.Contains("CNY"));
        (await escrow.RecordBankTransferAsync(job.Id, new Money(0, "CNY"), "REF-2", admin)).Errors.ShouldContain(e => e.Field == "amount");
        (await escrow.RecordBankTransferAsync(job.Id, new Money(-5, "CNY"), "REF-3", admin)).Errors.ShouldContain(e => e.Field == "amount");
        (await escrow.RecordBankTransferAsync(job.Id, new Money(5, "CNY"), " ", admin)).Errors.ShouldContain(e => e.Field == "reference");

        (await escrow.RecordBankTransferAsync(job.Id, new Money(5000, "CNY"), "REF-4", admin)).Outcome.ShouldBe(FundingOutcome.Recorded);
        (await escrow.RecordBankTransferAsync(job.Id, new Money(5000, "CNY"), "REF-4", admin)).Outcome.ShouldBe(FundingOutcome.AlreadyRecorded);

        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job.Id, "CNY"))).Minor.ShouldBe(5000);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task TheJobPausesItselfWithANoticeWhenEscrowCannotPayTheNextHourOfEveryoneWorkingAndResumesWhenFunded()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
        var admin = await MoneyWorld.UserAsync(db, "Admin");
        await Escrow(db).SetBudgetAsync(job.Id, 2, 0, 0);
        await Escrow(db).RecordBankTransferAsync(job.Id, new Money(6000, "CNY"), "R1", admin);
        var notifications = new Payouts.PayoutHarness(_db, _time).Notifications(db);

        (await JobFunding.CheckNextHourAsync(db, notifications, job.Id, peopleWorking: 2, _time)).ShouldBeTrue();
        var contributor = await MoneyWorld.UserAsync(db);
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), contributor, job.Id, 30 * 60_000, _time); // 1,500 spent, 4,500 left

        (await JobFunding.CheckNextHourAsync(db, notifications, job.Id, peopleWorking: 2, _time)).ShouldBeFalse();
        (await JobFunding.IsLiveAsync(db, job.Id)).ShouldBeFalse();
        var notices = await db.Set<EscrowNotice>().Where(n => n.JobId == job.Id).ToListAsync();
        notices.Single().Message.ShouldBe(JobFunding.PausedMessage);
        notices.Single().OrganisationId.ShouldBe(job.OrganisationId);

        (await JobFunding.CheckNextHourAsync(db, notifications, job.Id, peopleWorking: 2, _time)).ShouldBeFalse();
        (await db.Set<EscrowNotice>().CountAsync(n => n.JobId == job.Id)).ShouldBe(1, "one notice per pause, not one per check");

        await Escrow(db).RecordBankTransferAsync(job.Id, new Money(3000, "CNY"), "R2", admin);
        (await JobFunding.CheckNextHourAsync(db, notifications, job.Id, peopleWorking: 2, _time)).ShouldBeTrue();
        (await JobFunding.IsLiveAsync(db, job.Id)).ShouldBeTrue();
        (await db.Set<EscrowNotice>().OrderBy(n => n.CreatedAt).ThenBy(n => n.Id).Select(n => n.Message).ToListAsync()).Last().ShouldBe(JobFunding.ResumedMessage);
    }

    [Fact]
    public async Task UnusedEscrowIsRefundedOnceWhenTheJobCloses()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
        var admin = await MoneyWorld.UserAsync(db, "Admin");
        await Escrow(db).RecordBankTransferAsync(job.Id, new Money(10_000, "CNY"), "R1", admin);
        var contributor = await MoneyWorld.UserAsync(db);
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), contributor, job.Id, 60 * 60_000, _time);

        (await Escrow(db).RefundOnCloseAsync(job.Id)).ShouldBeNull("an open job keeps its escrow");
        await db.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Closed));

        (await Escrow(db).RefundOnCloseAsync(job.Id))!.Value.Minor.ShouldBe(7_000);
        (await Escrow(db).RefundOnCloseAsync(job.Id))!.Value.Minor.ShouldBe(0);

        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job.Id, "CNY"))).Minor.ShouldBe(0);
        (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(contributor, "CNY"))).Minor.ShouldBe(3_000, "earned pay stays with the contributor");
        await MoneyWorld.LedgerIsSoundAsync(db);
    }
}
