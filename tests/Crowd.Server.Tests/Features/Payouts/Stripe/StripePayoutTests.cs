using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Infrastructure;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Payouts.Stripe;

public sealed class StripePayoutTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(MoneyWorld.ClockStart);
    private FakeStripe _stripe = null!;
    private string _db = "";

    public async Task InitializeAsync()
    {
        _db = await TestPostgres.CreateDatabaseAsync();
        _stripe = await FakeStripe.StartAsync();
    }

    public async Task DisposeAsync() => await _stripe.DisposeAsync();

    private async Task<Guid> StripeContributorAsync(Crowd.Server.Infrastructure.Database.CrowdDb db, string accountId)
    {
        var job = await MoneyWorld.JobAsync(db, 1500, "USD", "US");
        var c = await MoneyWorld.ContributorWithBankAccountAsync(db);
        await db.Set<PayoutAccount>().Where(a => a.ContributorId == c)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Provider, PayoutProvider.Stripe).SetProperty(a => a.StripeAccountId, accountId));
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), c, job.Id, 3_600_000, _time);
        return c;
    }

    [Fact]
    public async Task APayoutToAStripeAccountThatStripeRefusesFailsAndTheMoneyReturnsToPayable()
    {
        var h = new PayoutHarness(_db, _time, _stripe.BaseAddress, PayoutMode.Stripe);
        await using var db = h.Db();
        var c = await StripeContributorAsync(db, "ba_not_a_connected_account");

        var result = await h.Runner(db).RunAsync("r1");

        result.Failed.ShouldBe(1);
        var payout = await db.Set<Payout>().SingleAsync();
        payout.State.ShouldBe(PayoutState.Failed);
        payout.FailureReason!.ShouldContain("No such destination");
        (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(c, "USD"))).Minor.ShouldBe(1500);
        _stripe.TransfersCreated.ShouldBe(0);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task AnAccountThatStopsBeingOnboardedBeforeItsPayoutIsSentIsNotPaidAndKeepsItsMoney()
    {
        var h = new PayoutHarness(_db, _time, _stripe.BaseAddress, PayoutMode.Stripe);
        await using var db = h.Db();
        var c = await StripeContributorAsync(db, "acct_offboarded");
        h.Faults.Hook = async (step, _) =>
        {
            if (step == PayoutStep.AfterCreate)
            {
                await using var other = h.Db();
                await other.Set<PayoutAccount>().Where(a => a.ContributorId == c).ExecuteUpdateAsync(s => s.SetProperty(a => a.Onboarded, false));
            }
        };

        (await h.Runner(db).RunAsync("r1")).Failed.ShouldBe(1);

        _stripe.Requests.ShouldBeEmpty();
        (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(c, "USD"))).Minor.ShouldBe(1500);
        (await h.Runner(db).RunAsync("r2")).Created.ShouldBe(0, "not onboarded: no new payout either");
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task WithStripeUnavailableThePayoutWaitsAndTheNextRunSendsItWithTheSameKey()
    {
        var h = new PayoutHarness(_db, _time, _stripe.BaseAddress, PayoutMode.Stripe);
        await using var db = h.Db();
        await StripeContributorAsync(db, "acct_patient");
        for (var i = 0; i <= h.Options.Stripe.MaxRetries; i++)
        {
            _stripe.Scripted.Enqueue((503, FakeStripe.Error("api_error", null, "Service unavailable.")));
        }

        var first = await h.Runner(db).RunAsync("r1");
        (await db.Set<Payout>().AsNoTracking().SingleAsync()).State.ShouldBe(PayoutState.Sending);
        var second = await h.Runner(db).RunAsync("r2");

        (first.Sent, second.Sent).ShouldBe((0, 1));
        (await db.Set<Payout>().AsNoTracking().SingleAsync()).State.ShouldBe(PayoutState.Sent);
        _stripe.TransfersCreated.ShouldBe(1);
        _stripe.Requests.Select(r => r.Header("Idempotency-Key")).Distinct().Count().ShouldBe(1);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task APayoutEarnedOnOneJobJoinsThatJobsTransferGroupAndOneFromSeveralJobsNamesThemAll()
    {
        var h = new PayoutHarness(_db, _time, _stripe.BaseAddress, PayoutMode.Stripe);
        await using var db = h.Db();
        var c = await StripeContributorAsync(db, "acct_one_job");
        var firstJob = await db.Set<Crowd.Server.Features.Earnings.EarningsAccrualRow>().Where(a => a.ContributorId == c).Select(a => a.JobId).SingleAsync();

        await h.Runner(db).RunAsync("r1");
        _time.Advance(TimeSpan.FromHours(1));
        var secondJob = await MoneyWorld.JobAsync(db, 1500, "USD", "US");
        var thirdJob = await MoneyWorld.JobAsync(db, 1500, "USD", "US");
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), c, secondJob.Id, 3_600_000, _time);
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), c, thirdJob.Id, 3_600_000, _time);
        _time.Advance(TimeSpan.FromMinutes(1));
        await h.Runner(db).RunAsync("r2");

        var transfers = _stripe.Requests.Where(r => r.Path == "/v1/transfers").Select(r => r.Form).ToList();
        transfers.Count.ShouldBe(2);
        transfers[0]["transfer_group"].ShouldBe("job_" + firstJob.ToString("N"));
        transfers[0]["metadata[job_ids]"].ShouldBe(firstJob.ToString());
        var second = await db.Set<Payout>().AsNoTracking().OrderBy(p => p.CreatedAt).LastAsync();
        transfers[1]["transfer_group"].ShouldBe("payout_" + second.Id.ToString("N"));
        transfers[1]["metadata[job_ids]"].Split(',').ShouldBe(new[] { secondJob.Id.ToString(), thirdJob.Id.ToString() }, ignoreOrder: true);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task ARetriedTransferKeepsTheTransferGroupItWasFirstSentWithWhateverWasEarnedSince()
    {
        var h = new PayoutHarness(_db, _time, _stripe.BaseAddress, PayoutMode.Stripe);
        await using var db = h.Db();
        var c = await StripeContributorAsync(db, "acct_retried");
        for (var i = 0; i <= h.Options.Stripe.MaxRetries; i++)
        {
            _stripe.Scripted.Enqueue((503, FakeStripe.Error("api_error", null, "Service unavailable.")));
        }
        await h.Runner(db).RunAsync("r1");
        _time.Advance(TimeSpan.FromMinutes(5));
        var otherJob = await MoneyWorld.JobAsync(db, 1500, "USD", "US");
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), c, otherJob.Id, 3_600_000, _time);

        await h.Runner(db).RunAsync("r2");

        var first = await db.Set<Payout>().AsNoTracking().OrderBy(p => p.CreatedAt).FirstAsync();
        var sends = _stripe.Requests.Where(r => r.Header("Idempotency-Key") == "payout-" + first.Id.ToString("N")).ToList();
        sends.Count.ShouldBe(4, "three refused tries in the first run, one in the second");
        sends.Select(r => r.Form["transfer_group"]).Distinct().ShouldHaveSingleItem("Stripe refuses a retried Idempotency-Key with different parameters");
        sends.Select(r => r.Form["metadata[job_ids]"]).Distinct().ShouldHaveSingleItem();
        await MoneyWorld.LedgerIsSoundAsync(db);
    }
}
