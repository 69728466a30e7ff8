using System.Text;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Features.Payouts.Stripe;
using Crowd.Server.Infrastructure;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Payouts.Stripe;

public sealed class StripeWebhookTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 21, 8, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(s_now);
    private string _db = "";

    public async Task InitializeAsync() => _db = await TestPostgres.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private static long T(DateTimeOffset at) => at.ToUnixTimeSeconds();

    private static string Signed(string body, string secret = "whsec_new", DateTimeOffset? at = null) => FakeStripe.Signature(secret, T(at ?? s_now), body);

    private static string Event(string id, string type, string obj, string apiVersion = FakeStripe.PinnedApiVersion) =>
        FakeStripe.EventJson(id, type, obj, s_now, apiVersion);

    private static Task<WebhookOutcome> ReceiveAsync(PayoutHarness h, Crowd.Server.Infrastructure.Database.CrowdDb db, string? header, string body) =>
        h.Webhooks(db).ReceiveAsync(header, Encoding.UTF8.GetBytes(body));

    [Fact]
    public async Task DuringASecretRotationASignatureFromEitherSecretIsAcceptedAndAnyV1MayMatch()
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var first = Event("evt_rot_1", "payout.paid", """{"id":"po_1","object":"payout","status":"paid"}""");
        var second = Event("evt_rot_2", "payout.paid", """{"id":"po_2","object":"payout","status":"paid"}""");
        var third = Event("evt_rot_3", "payout.paid", """{"id":"po_3","object":"payout","status":"paid"}""");
        var t = T(s_now);

        (await ReceiveAsync(h, db, Signed(first, "whsec_old"), first)).ShouldBe(WebhookOutcome.Handled);
        (await ReceiveAsync(h, db, $"t={t},v1={FakeStripe.V1("whsec_retired", t, second)},v1={FakeStripe.V1("whsec_new", t, second)}", second))
            .ShouldBe(WebhookOutcome.Handled);
        (await ReceiveAsync(h, db, $"t={t},v0={FakeStripe.V1("whsec_new", t, third)},v1={FakeStripe.V1("whsec_other", t, third)}", third))
            .ShouldBe(WebhookOutcome.Refused, "only v1 signatures count");
    }

    [Fact]
    public async Task ATamperedBodyAnOldTimestampOrAMissingOrMalformedHeaderIsRefused()
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var body = Event("evt_1", "payout.paid", """{"id":"po_1","object":"payout"}""");
        var t = T(s_now);

        (await ReceiveAsync(h, db, Signed(body), body.Replace("po_1", "po_2"))).ShouldBe(WebhookOutcome.Refused);
        (await ReceiveAsync(h, db, Signed(body, at: s_now.AddSeconds(-301)), body)).ShouldBe(WebhookOutcome.Refused, "older than the 300 s tolerance");
        (await ReceiveAsync(h, db, $"t={t + 10},v1={FakeStripe.V1("whsec_new", t, body)}", body)).ShouldBe(WebhookOutcome.Refused, "the timestamp is part of what is signed");
        (await ReceiveAsync(h, db, null, body)).ShouldBe(WebhookOutcome.Refused);
        (await ReceiveAsync(h, db, "v1=abc", body)).ShouldBe(WebhookOutcome.Refused);
        (await ReceiveAsync(h, db, "garbage", body)).ShouldBe(WebhookOutcome.Refused);
        (await db.Set<StripeEvent>().CountAsync()).ShouldBe(0);

        (await ReceiveAsync(h, db, Signed(body, at: s_now.AddSeconds(-300)), body)).ShouldBe(WebhookOutcome.Handled, "300 s is still inside the tolerance");
    }

    [Fact]
    public async Task AnEventRenderedForAnotherApiVersionIsRefusedRatherThanMisread()
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var job = await MoneyWorld.JobAsync(db, 1500, "USD", "US");
        var body = Event("evt_old_version", "payment_intent.succeeded",
            $$$"""{"id":"pi_v","object":"payment_intent","amount_received":250000,"currency":"usd","metadata":{"job_id":"{{{job.Id}}}"}}""", "2025-10-29.clover");

        (await ReceiveAsync(h, db, Signed(body), body)).ShouldBe(WebhookOutcome.Refused);

        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job.Id, "USD"))).Minor.ShouldBe(0);
        (await db.Set<StripeEvent>().CountAsync()).ShouldBe(0, "a refused event is not recorded, so Stripe's redelivery is processed");
    }

    [Fact]
    public async Task TransferCreatedSettlesThePayoutOnceAndAReplayChangesNothing()
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var payout = await SentStripePayoutAsync(db, h);
        var body = Event("evt_settle_1", "transfer.created", $$$"""{"id":"tr_123","object":"transfer","amount":1500,"currency":"usd","metadata":{"payout_id":"{{{payout.Id}}}"}}""");

        (await ReceiveAsync(h, db, Signed(body), body)).ShouldBe(WebhookOutcome.Handled);
        (await ReceiveAsync(h, db, Signed(body), body)).ShouldBe(WebhookOutcome.Replayed);

        (await db.Set<Payout>().AsNoTracking().SingleAsync(p => p.Id == payout.Id)).State.ShouldBe(PayoutState.Settled);
        (await LedgerQueries.BalanceAsync(db, AccountRef.PaidOut("USD"))).Minor.ShouldBe(payout.AmountMinor);
        (await LedgerQueries.BalanceAsync(db, AccountRef.InFlight("USD"))).Minor.ShouldBe(0);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task AReversedTransferReturnsTheMoneyToTheContributorsPayable()
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var payout = await SentStripePayoutAsync(db, h);
        var created = Event("evt_c", "transfer.created", $$$"""{"id":"tr_9","object":"transfer","metadata":{"payout_id":"{{{payout.Id}}}"}}""");
        var reversed = Event("evt_r", "transfer.reversed", $$$"""{"id":"tr_9","object":"transfer","metadata":{"payout_id":"{{{payout.Id}}}"}}""");

        await ReceiveAsync(h, db, Signed(created), created);
        (await ReceiveAsync(h, db, Signed(reversed), reversed)).ShouldBe(WebhookOutcome.Handled);

        (await db.Set<Payout>().AsNoTracking().SingleAsync(p => p.Id == payout.Id)).State.ShouldBe(PayoutState.Failed);
        (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(payout.ContributorId, "USD"))).Minor.ShouldBe(payout.AmountMinor);
        (await LedgerQueries.BalanceAsync(db, AccountRef.PaidOut("USD"))).Minor.ShouldBe(0);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task AccountUpdatedMarksTheContributorOnboardedWhenStripeLetsItPayOut()
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var contributor = await MoneyWorld.ContributorWithBankAccountAsync(db, onboarded: false);
        await db.Set<PayoutAccount>().Where(a => a.ContributorId == contributor)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Provider, PayoutProvider.Stripe).SetProperty(a => a.StripeAccountId, "acct_onb"));
        var body = Event("evt_acc", "account.updated", """{"id":"acct_onb","object":"account","details_submitted":true,"payouts_enabled":true}""");

        (await ReceiveAsync(h, db, Signed(body), body)).ShouldBe(WebhookOutcome.Handled);

        (await db.Set<PayoutAccount>().AsNoTracking().SingleAsync(a => a.ContributorId == contributor)).Onboarded.ShouldBeTrue();
    }

    [Fact]
    public async Task ASucceededPaymentIntentFundsItsJobsEscrowOnceEvenWhenRedeliveredUnderANewEventId()
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var job = await MoneyWorld.JobAsync(db, 1500, "USD", "US");
        var intent = $$$"""{"id":"pi_1","object":"payment_intent","amount":250000,"amount_received":250000,"currency":"usd","status":"succeeded","metadata":{"job_id":"{{{job.Id}}}"}}""";
        var first = Event("evt_pi_1", "payment_intent.succeeded", intent);
        var again = Event("evt_pi_2", "payment_intent.succeeded", intent);
        var wrongCurrency = Event("evt_pi_3", "payment_intent.succeeded", intent.Replace("pi_1", "pi_2").Replace("usd", "eur"));

        (await ReceiveAsync(h, db, Signed(first), first)).ShouldBe(WebhookOutcome.Handled);
        (await ReceiveAsync(h, db, Signed(again), again)).ShouldBe(WebhookOutcome.Handled);
        (await ReceiveAsync(h, db, Signed(wrongCurrency), wrongCurrency)).ShouldBe(WebhookOutcome.Handled);

        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job.Id, "USD"))).Minor.ShouldBe(250_000);
        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job.Id, "EUR"))).Minor.ShouldBe(0);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task UnknownAndMalformedEventsAreHarmless()
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var unknown = Event("evt_x", "charge.refunded", """{"id":"ch_1","object":"charge"}""");

        (await ReceiveAsync(h, db, Signed(unknown), unknown)).ShouldBe(WebhookOutcome.Ignored);
        (await ReceiveAsync(h, db, Signed("not json"), "not json")).ShouldBe(WebhookOutcome.BadPayload);
        (await h.Webhooks(db).ReceiveAsync(Signed("x"), [0xC3, 0x28])).ShouldBe(WebhookOutcome.BadPayload);

        (await db.Set<StripeEvent>().Select(e => e.Id).ToListAsync()).ShouldBe(["evt_x"]);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task TheWebhookEndpointAnswers400ToABadSignatureAnd200ToAGoodOne()
    {
        await using var app = new WebhookApp();
        await app.InitializeAsync();
        using var client = app.CreateClient();
        var now = DateTimeOffset.UtcNow;
        var body = FakeStripe.EventJson("evt_http", "payout.paid", """{"id":"po_1","object":"payout","status":"paid"}""", now);

        using var bad = new StringContent(body, Encoding.UTF8, "application/json");
        bad.Headers.Add("Stripe-Signature", FakeStripe.Signature("whsec_other", T(now), body));
        var refused = await client.PostAsync("/api/payouts/stripe/webhook", bad);
        refused.StatusCode.ShouldBe(System.Net.HttpStatusCode.BadRequest);
        (await refused.Content.ReadAsStringAsync()).ShouldContain("Event refused");

        using var good = new StringContent(body, Encoding.UTF8, "application/json");
        good.Headers.Add("Stripe-Signature", FakeStripe.Signature("whsec_http", T(now), body));
        var response = await client.PostAsync("/api/payouts/stripe/webhook", good);
        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldContain("Handled");
    }

    private sealed class WebhookApp : CrowdApp
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Crowd:Stripe:WebhookSecrets:0", "whsec_http");
        }
    }

    private async Task<Payout> SentStripePayoutAsync(Crowd.Server.Infrastructure.Database.CrowdDb db, PayoutHarness h)
    {
        await using var stripe = await FakeStripe.StartAsync();
        h.Options.Stripe.ApiBase = stripe.BaseAddress;
        h.Options.Payouts.Mode = PayoutMode.Stripe;
        var job = await MoneyWorld.JobAsync(db, 1500, "USD", "US");
        var contributor = await MoneyWorld.ContributorWithBankAccountAsync(db);
        await db.Set<PayoutAccount>().Where(a => a.ContributorId == contributor)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Provider, PayoutProvider.Stripe).SetProperty(a => a.StripeAccountId, "acct_" + contributor.ToString("N")[..12]));
        await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), contributor, job.Id, 3_600_000, _time);
        await h.Runner(db).RunAsync("run");
        return await db.Set<Payout>().AsNoTracking().SingleAsync();
    }
}
