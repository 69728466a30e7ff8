using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Features.Payouts.BankFile;
using Crowd.Server.Tests.Features.Payouts;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Payouts.BankFile;

public sealed class BankFilePayoutTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(MoneyWorld.ClockStart);
    private string _db = "";

    public async Task InitializeAsync() => _db = await TestPostgres.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task ARunPaysEachOnboardedContributorTheirWholePayableOnceInABatchFileAndSkipsTheRest()
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
        await MoneyWorld.FundAsync(db, job.Id, 1_000_000);
        var paid = await MoneyWorld.ContributorWithBankAccountAsync(db, "Wang, \"Fang\"");
        var small = await MoneyWorld.ContributorWithBankAccountAsync(db, "Small");
        var notOnboarded = await MoneyWorld.ContributorWithBankAccountAsync(db, "Pending", onboarded: false);
        var otherCurrency = await MoneyWorld.ContributorWithBankAccountAsync(db, "Dollar only", currency: "USD");
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), paid, job.Id, 90 * 60_000, _time);        // 4,500
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), small, job.Id, 60_000, _time);            // 50: under the minimum
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), notOnboarded, job.Id, 60 * 60_000, _time);
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), otherCurrency, job.Id, 60 * 60_000, _time);

        var result = await h.Runner(db).RunAsync("2026-11-21T09:00:00Z");

        result.ShouldBe(new PayoutRunResult(PayoutRunOutcome.Completed, Created: 1, Batched: 1, Sent: 0, Failed: 0, SkippedWithoutMethod: 2),
            "a line in a bank file is written, not sent, until an admin sends the file");
        var payout = await db.Set<Payout>().SingleAsync();
        (payout.ContributorId, payout.AmountMinor, payout.State).ShouldBe((paid, 4500L, PayoutState.Sent));
        (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(paid, "CNY"))).Minor.ShouldBe(0);
        (await LedgerQueries.BalanceAsync(db, AccountRef.InFlight("CNY"))).Minor.ShouldBe(4500);
        (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(small, "CNY"))).Minor.ShouldBe(50);
        (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(notOnboarded, "CNY"))).Minor.ShouldBe(3000);

        var batch = (await h.Batches(db).ListAsync()).Single();
        var csv = await h.Batches(db).CsvAsync(batch.Id);
        csv!.Split('\n')[0].ShouldBe(BankBatchFile.Header);
        csv.Split('\n')[1].ShouldStartWith("\"Wang, \"\"Fang\"\"\",6222 0000 ");
        csv.Split('\n')[1].ShouldEndWith($",45.00,CNY,{payout.Id:N}");
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task AConfirmedLineIsPaidOutAndAFailedLineReturnsToPayableForTheNextRun()
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
        var a = await MoneyWorld.ContributorWithBankAccountAsync(db, "A");
        var b = await MoneyWorld.ContributorWithBankAccountAsync(db, "B");
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), a, job.Id, 60 * 60_000, _time);
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), b, job.Id, 120 * 60_000, _time);
        await h.Runner(db).RunAsync("run-1");
        var batch = (await h.Batches(db).ListAsync()).Single();
        var payoutA = await db.Set<Payout>().SingleAsync(p => p.ContributorId == a);
        var payoutB = await db.Set<Payout>().SingleAsync(p => p.ContributorId == b);

        (await h.Batches(db).ConfirmLineAsync(payoutA.Id)).ShouldBe(BatchActionOutcome.NothingToDo, "a batch must be marked sent first");
        (await h.Batches(db).MarkSentAsync(batch.Id, Guid.NewGuid())).ShouldBe(BatchActionOutcome.Done);
        (await h.Batches(db).MarkSentAsync(batch.Id, Guid.NewGuid())).ShouldBe(BatchActionOutcome.NothingToDo);
        (await h.Batches(db).ConfirmLineAsync(payoutA.Id)).ShouldBe(BatchActionOutcome.Done);
        (await h.Batches(db).ConfirmLineAsync(payoutA.Id)).ShouldBe(BatchActionOutcome.NothingToDo);
        (await h.Batches(db).FailLineAsync(payoutB.Id, "Account closed")).ShouldBe(BatchActionOutcome.Done);
        (await h.Batches(db).FailLineAsync(payoutB.Id, "Account closed")).ShouldBe(BatchActionOutcome.NothingToDo);

        (await LedgerQueries.BalanceAsync(db, AccountRef.PaidOut("CNY"))).Minor.ShouldBe(3000);
        (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(b, "CNY"))).Minor.ShouldBe(6000);
        (await LedgerQueries.BalanceAsync(db, AccountRef.InFlight("CNY"))).Minor.ShouldBe(0);

        var next = await h.Runner(db).RunAsync("run-2");
        next.Created.ShouldBe(1);
        (await db.Set<Payout>().Where(p => p.ContributorId == b).OrderBy(p => p.CreatedAt).Select(p => p.State).ToListAsync())
            .ShouldBe([PayoutState.Failed, PayoutState.Sent]);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task TheSameRunKeyTwiceDoesNothingTheSecondTimeAndARunStartedWhileAnotherIsBusyDoesNothing()
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
        var a = await MoneyWorld.ContributorWithBankAccountAsync(db, "A");
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), a, job.Id, 60 * 60_000, _time);

        (await h.Runner(db).RunAsync("same")).Outcome.ShouldBe(PayoutRunOutcome.Completed);
        (await h.Runner(db).RunAsync("same")).Outcome.ShouldBe(PayoutRunOutcome.AlreadyFinished);

        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), a, job.Id, 60 * 60_000, _time);
        var inside = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        h.Faults.Hook = async (step, _) =>
        {
            if (step == PayoutStep.AfterCreate)
            {
                inside.TrySetResult();
                await release.Task;
            }
        };
        await using var first = h.Db();
        var running = h.Runner(first).RunAsync("node-1");
        await inside.Task;
        await using var second = h.Db();
        (await h.Runner(second).RunAsync("node-2")).Outcome.ShouldBe(PayoutRunOutcome.Busy);
        release.SetResult();
        (await running).Created.ShouldBe(1);

        (await db.Set<Payout>().CountAsync()).ShouldBe(2);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }
}
