using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Features.Payouts.BankFile;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Payouts;

/// <summary>A crash at each step of a payout run, then a re-run: nobody is paid twice, no accrual is lost.</summary>
public sealed class ExactlyOnceTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(MoneyWorld.ClockStart);
    private string _db = "";

    public async Task InitializeAsync() => _db = await TestPostgres.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData(PayoutStep.AfterCreate)]
    [InlineData(PayoutStep.BeforeProviderCall)]
    public async Task ABankFileRunCrashedAtAStepAndRunAgainPaysEveryoneExactlyOnce(PayoutStep step)
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var (job, contributors) = await WorkedAsync(db, 5, "CNY");
        h.CrashOnceAt(step);

        await Should.ThrowAsync<InjectedCrashException>(() => h.Runner(h.Db()).RunAsync("09:00"));
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), contributors[0], job, 10 * 60_000, _time); // work goes on between runs
        var again = await h.Runner(h.Db()).RunAsync("09:00");

        again.Outcome.ShouldBe(PayoutRunOutcome.Completed);
        (await db.Set<Payout>().CountAsync()).ShouldBe(contributors.Count);
        (await db.Set<Payout>().AllAsync(p => p.State == PayoutState.Sent && p.BatchId != null)).ShouldBeTrue();
        (await db.Set<BankPayoutBatch>().CountAsync()).ShouldBe(1);
        await NothingLostOrDoubledAsync(db, contributors);

        (await h.Runner(h.Db()).RunAsync("10:00")).Created.ShouldBe(1, "the accrual made after the crash is paid by the next run");
        await NothingLostOrDoubledAsync(db, contributors);
    }

    [Fact]
    public async Task ASettlementCrashedBeforeCommitSettlesNothingAndTheRetrySettlesEachLineOnce()
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var (_, contributors) = await WorkedAsync(db, 4, "CNY");
        await h.Runner(db).RunAsync("09:00");
        var batch = await db.Set<BankPayoutBatch>().SingleAsync();
        await h.Batches(db).MarkSentAsync(batch.Id, Guid.NewGuid());
        h.CrashOnceAt(PayoutStep.BeforeSettleCommit);

        await Should.ThrowAsync<InjectedCrashException>(() => h.Batches(h.Db()).ConfirmRemainingAsync(batch.Id));
        (await db.Set<Payout>().CountAsync(p => p.State == PayoutState.Settled)).ShouldBe(0);
        (await h.Batches(h.Db()).ConfirmRemainingAsync(batch.Id)).ShouldBe(4);
        (await h.Batches(h.Db()).ConfirmRemainingAsync(batch.Id)).ShouldBe(0);

        (await LedgerQueries.BalanceAsync(db, AccountRef.PaidOut("CNY"))).Minor.ShouldBe(await db.Set<EarningsAccrualRow>().SumAsync(a => a.AccruedMinor));
        await NothingLostOrDoubledAsync(db, contributors);
    }

    [Theory]
    [InlineData(PayoutStep.AfterCreate)]
    [InlineData(PayoutStep.BeforeProviderCall)]
    [InlineData(PayoutStep.AfterProviderCall)]
    public async Task AStripeRunCrashedAtAStepAndRunAgainMakesExactlyOneTransferPerPayout(PayoutStep step)
    {
        await using var stripe = await FakeStripe.StartAsync();
        var h = new PayoutHarness(_db, _time, stripe.BaseAddress, PayoutMode.Stripe);
        await using var db = h.Db();
        var (_, contributors) = await WorkedAsync(db, 3, "USD", PayoutProvider.Stripe);
        h.CrashOnceAt(step, onlyForAPayout: step != PayoutStep.AfterCreate);

        await Should.ThrowAsync<InjectedCrashException>(() => h.Runner(h.Db()).RunAsync("09:00"));
        await h.Runner(h.Db()).RunAsync("09:00");

        stripe.TransfersCreated.ShouldBe(3);
        var payouts = await db.Set<Payout>().ToListAsync();
        payouts.ShouldAllBe(p => p.State == PayoutState.Sent && p.ProviderReference!.StartsWith("tr_"));
        var keys = stripe.Requests.Where(r => r.Path == "/v1/transfers").GroupBy(r => r.Form["metadata[payout_id]"])
            .Select(g => g.Select(r => r.Header("Idempotency-Key")).Distinct().Count()).ToList();
        keys.Count.ShouldBe(3);
        keys.ShouldAllBe(k => k == 1, "a resent payout reuses its idempotency key");
        await NothingLostOrDoubledAsync(db, contributors);
    }

    private async Task<(Guid Job, List<Guid> Contributors)> WorkedAsync(CrowdDb db, int count, string currency, PayoutProvider provider = PayoutProvider.BankFile)
    {
        var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000, currency: currency, region: currency == "USD" ? "US" : "CN-BJ");
        var contributors = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var c = await MoneyWorld.ContributorWithBankAccountAsync(db, "Contributor " + i);
            if (provider == PayoutProvider.Stripe)
            {
                await db.Set<PayoutAccount>().Where(a => a.ContributorId == c).ExecuteUpdateAsync(s => s
                    .SetProperty(a => a.Provider, PayoutProvider.Stripe).SetProperty(a => a.StripeAccountId, "acct_" + c.ToString("N")[..16]));
            }
            await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), c, job.Id, (i + 1) * 37 * 60_000 + 1, _time);
            contributors.Add(c);
        }
        return (job.Id, contributors);
    }

    /// <summary>For each contributor: everything accrued = payable + every payout not failed. And the ledger balances.</summary>
    private static async Task NothingLostOrDoubledAsync(CrowdDb db, IEnumerable<Guid> contributors)
    {
        foreach (var c in contributors)
        {
            var accrued = await db.Set<EarningsAccrualRow>().Where(a => a.ContributorId == c).SumAsync(a => a.AccruedMinor);
            var currency = await db.Set<EarningsAccrualRow>().Where(a => a.ContributorId == c).Select(a => a.Currency).FirstAsync();
            var payable = (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(c, currency))).Minor;
            var paidOrInFlight = await db.Set<Payout>().Where(p => p.ContributorId == c && p.State != PayoutState.Failed).SumAsync(p => p.AmountMinor);
            (payable + paidOrInFlight).ShouldBe(accrued, $"contributor {c}");
        }
        await MoneyWorld.LedgerIsSoundAsync(db);
    }
}
