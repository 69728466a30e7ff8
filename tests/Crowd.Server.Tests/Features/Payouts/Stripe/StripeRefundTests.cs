using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Payouts.Stripe;

public sealed class StripeRefundTests : IAsyncLifetime
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

    private PayoutHarness H => new(_db, _time, _stripe.BaseAddress);

    private EscrowService Escrow(CrowdDb db) => H.Escrow(db);

    private StripeRefunds Refunds(CrowdDb db) => H.Refunds(db);

    /// <summary>A closed USD job funded by a bank transfer of 50.00 and two card payments (pi_a 30.00, then pi_b 40.00).</summary>
    private async Task<Guid> ClosedJobFundedThreeWaysAsync(CrowdDb db)
    {
        var job = await MoneyWorld.JobAsync(db, 1500, "USD", "US");
        var admin = await MoneyWorld.UserAsync(db, "Admin");
        await Escrow(db).RecordBankTransferAsync(job.Id, new Money(5_000, "USD"), "BANK-1", admin);
        await Escrow(db).RecordStripePaymentAsync(job.Id, new Money(3_000, "USD"), "pi_a");
        _time.Advance(TimeSpan.FromMinutes(1));
        await Escrow(db).RecordStripePaymentAsync(job.Id, new Money(4_000, "USD"), "pi_b");
        await db.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Closed));
        return job.Id;
    }

    [Fact]
    public async Task UnusedEscrowPaidByCardGoesBackToTheCardsNewestFirstAndTheRestByBank()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await ClosedJobFundedThreeWaysAsync(db);

        (await Escrow(db).RefundOnCloseAsync(job))!.Value.Minor.ShouldBe(12_000);
        (await Refunds(db).SendPendingAsync(job)).ShouldBe(2);

        var requests = _stripe.Requests.Where(r => r.Path == "/v1/refunds").ToList();
        requests.Count.ShouldBe(2);
        var refunds = await db.Set<EscrowRefund>().AsNoTracking().OrderBy(r => r.AmountMinor).ToListAsync();
        refunds.Select(r => (r.PaymentIntentId, r.AmountMinor, r.State)).ShouldBe(
            [("pi_a", 3_000, EscrowRefundState.Sent), ("pi_b", 4_000, EscrowRefundState.Sent)]);
        var first = requests[0];
        first.Method.ShouldBe("POST");
        first.Header("Authorization").ShouldBe("Bearer sk_test_crowd");
        first.Header("Stripe-Version").ShouldBe(FakeStripe.PinnedApiVersion);
        first.Form.ShouldBe(new Dictionary<string, string>
        {
            ["payment_intent"] = "pi_b", ["amount"] = "4000", ["reason"] = "requested_by_customer",
            ["metadata[job_id]"] = job.ToString(), ["metadata[refund_id]"] = refunds[1].Id.ToString(),
        }, ignoreOrder: true);
        first.Header("Idempotency-Key").ShouldBe("refund-" + refunds[1].Id.ToString("N"));
        refunds.ShouldAllBe(r => r.StripeRefundId!.StartsWith("re_"));
        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job, "USD"))).Minor.ShouldBe(0);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task WhenLessIsLeftThanTheCardsPaidOnlyTheNewestCardIsRefundedAndNeverMoreThanItPaid()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await ClosedJobFundedThreeWaysAsync(db);
        var contributor = await MoneyWorld.UserAsync(db);
        await Crowd.Server.Features.Earnings.EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), contributor, job, 6 * 3_600_000, _time);

        (await Escrow(db).RefundOnCloseAsync(job))!.Value.Minor.ShouldBe(3_000);
        await Refunds(db).SendPendingAsync(job);

        var refund = await db.Set<EscrowRefund>().AsNoTracking().SingleAsync();
        (refund.PaymentIntentId, refund.AmountMinor).ShouldBe(("pi_b", 3_000));
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task ARefundStripeRefusesPutsTheMoneyBackInEscrowAndTellsTheRequester()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await ClosedJobFundedThreeWaysAsync(db);
        await Escrow(db).RefundOnCloseAsync(job);
        _stripe.Scripted.Enqueue((400, FakeStripe.Error("invalid_request_error", "charge_already_refunded", "Charge has already been refunded.")));

        (await Refunds(db).SendPendingAsync(job)).ShouldBe(1);

        var failed = await db.Set<EscrowRefund>().AsNoTracking().SingleAsync(r => r.State == EscrowRefundState.Failed);
        failed.FailureReason!.ShouldContain("already been refunded");
        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job, "USD"))).Minor.ShouldBe(failed.AmountMinor);
        (await db.Set<EscrowNotice>().Select(n => n.Message).ToListAsync()).ShouldContain(JobFunding.RefundFailedMessage);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task ARefundStripeCannotTakeNowIsSentOnceLaterWithTheSameKey()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await ClosedJobFundedThreeWaysAsync(db);
        await Escrow(db).RefundOnCloseAsync(job);
        for (var i = 0; i < 3; i++)
        {
            _stripe.Scripted.Enqueue((503, FakeStripe.Error("api_error", null, "Stripe is down.")));
        }

        (await Refunds(db).SendPendingAsync(job)).ShouldBe(1, "the first refund waits after three 503s; the second goes through");
        (await db.Set<EscrowRefund>().CountAsync(r => r.State == EscrowRefundState.Pending)).ShouldBe(1);
        (await Refunds(db).SendPendingAsync(job)).ShouldBe(1);
        (await Refunds(db).SendPendingAsync(job)).ShouldBe(0);

        (await db.Set<EscrowRefund>().CountAsync(r => r.State == EscrowRefundState.Sent)).ShouldBe(2);
        var keys = _stripe.Requests.Where(r => r.Path == "/v1/refunds").GroupBy(r => r.Header("Idempotency-Key")).ToList();
        keys.Count.ShouldBe(2);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }
}
