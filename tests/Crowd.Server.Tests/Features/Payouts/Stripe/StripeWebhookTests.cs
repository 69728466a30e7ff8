using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Features.Payouts.Stripe;
using Crowd.Server.Infrastructure;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Payouts.Stripe;

public sealed class StripeWebhookTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 21, 8, 0, 0, TimeSpan.Zero);
    private readonly FakeTime _time = new(s_now);
    private string _db = "";

    public async Task InitializeAsync() => _db = await TestPostgres.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    // Computed here from the definition (HMAC-SHA256 over "t.body"), independently of the code under test.
    private static string V1(string secret, long t, string body) =>
        Convert.ToHexStringLower(new HMACSHA256(Encoding.UTF8.GetBytes(secret)).ComputeHash(Encoding.UTF8.GetBytes($"{t}.{body}")));

    private static long T(DateTimeOffset at) => at.ToUnixTimeSeconds();

    [Fact]
    public void ASignatureFromEitherSecretDuringARotationIsAccepted()
    {
        const string body = """{"id":"evt_1","type":"account.updated"}""";
        var t = T(s_now);
        string[] secrets = ["whsec_old", "whsec_new"];
        var header = $"t={t},v1={V1("whsec_new", t, body)},v1={V1("whsec_retired", t, body)}";

        Verify(header, body, secrets).ShouldBe(SignatureCheck.Valid);
        Verify($"t={t},v1={V1("whsec_old", t, body)}", body, secrets).ShouldBe(SignatureCheck.Valid);
        Verify($"t={t},v0={V1("whsec_old", t, body)},v1={V1("whsec_other", t, body)}", body, secrets).ShouldBe(SignatureCheck.NoMatch);
    }

    [Fact]
    public void ATamperedBodyAnOldTimestampOrAMalformedHeaderIsRefused()
    {
        const string body = """{"id":"evt_1"}""";
        string[] secrets = ["whsec_new"];
        var t = T(s_now);

        Verify($"t={t},v1={V1("whsec_new", t, body)}", body + " ", secrets).ShouldBe(SignatureCheck.NoMatch);
        var old = T(s_now.AddSeconds(-301));
        Verify($"t={old},v1={V1("whsec_new", old, body)}", body, secrets).ShouldBe(SignatureCheck.TooOld);
        var edge = T(s_now.AddSeconds(-300));
        Verify($"t={edge},v1={V1("whsec_new", edge, body)}", body, secrets).ShouldBe(SignatureCheck.Valid);
        Verify($"t={t + 10},v1={V1("whsec_new", t, body)}", body, secrets).ShouldBe(SignatureCheck.NoMatch, "the timestamp is part of what is signed");
        Verify(null, body, secrets).ShouldBe(SignatureCheck.Missing);
        Verify("v1=abc", body, secrets).ShouldBe(SignatureCheck.Malformed);
        Verify($"t=yesterday,v1={V1("whsec_new", t, body)}", body, secrets).ShouldBe(SignatureCheck.Malformed);
    }

    [Fact]
    public async Task TransferCreatedSettlesThePayoutOnceAndAReplayChangesNothing()
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var payout = await SentStripePayoutAsync(db, h);
        var body = Event("evt_settle_1", "transfer.created", $$$"""{"id":"tr_123","object":"transfer","metadata":{"payout_id":"{{{payout.Id}}}"}}""");

        (await h.Webhooks(db).ReceiveAsync(Signed(body), Encoding.UTF8.GetBytes(body))).ShouldBe(WebhookOutcome.Handled);
        (await h.Webhooks(db).ReceiveAsync(Signed(body), Encoding.UTF8.GetBytes(body))).ShouldBe(WebhookOutcome.Replayed);

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
        var created = Event("evt_c", "transfer.created", $$$"""{"id":"tr_9","metadata":{"payout_id":"{{{payout.Id}}}"}}""");
        var reversed = Event("evt_r", "transfer.reversed", $$$"""{"id":"tr_9","metadata":{"payout_id":"{{{payout.Id}}}"}}""");

        await h.Webhooks(db).ReceiveAsync(Signed(created), Encoding.UTF8.GetBytes(created));
        (await h.Webhooks(db).ReceiveAsync(Signed(reversed), Encoding.UTF8.GetBytes(reversed))).ShouldBe(WebhookOutcome.Handled);

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

        (await h.Webhooks(db).ReceiveAsync(Signed(body), Encoding.UTF8.GetBytes(body))).ShouldBe(WebhookOutcome.Handled);

        (await db.Set<PayoutAccount>().AsNoTracking().SingleAsync(a => a.ContributorId == contributor)).Onboarded.ShouldBeTrue();
    }

    [Fact]
    public async Task ASucceededPaymentIntentFundsItsJobsEscrowOnceEvenWhenRedeliveredUnderANewEventId()
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var job = await MoneyWorld.JobAsync(db, 1500, "USD", "US");
        var intent = $$$"""{"id":"pi_1","object":"payment_intent","amount_received":250000,"currency":"usd","metadata":{"job_id":"{{{job.Id}}}"}}""";
        var first = Event("evt_pi_1", "payment_intent.succeeded", intent);
        var again = Event("evt_pi_2", "payment_intent.succeeded", intent);
        var wrongCurrency = Event("evt_pi_3", "payment_intent.succeeded", intent.Replace("pi_1", "pi_2").Replace("usd", "eur"));

        (await h.Webhooks(db).ReceiveAsync(Signed(first), Encoding.UTF8.GetBytes(first))).ShouldBe(WebhookOutcome.Handled);
        (await h.Webhooks(db).ReceiveAsync(Signed(again), Encoding.UTF8.GetBytes(again))).ShouldBe(WebhookOutcome.Handled);
        (await h.Webhooks(db).ReceiveAsync(Signed(wrongCurrency), Encoding.UTF8.GetBytes(wrongCurrency))).ShouldBe(WebhookOutcome.Handled);

        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job.Id, "USD"))).Minor.ShouldBe(250_000);
        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job.Id, "EUR"))).Minor.ShouldBe(0);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task BadlySignedOldUnknownAndMalformedEventsAreRefusedOrHarmless()
    {
        var h = new PayoutHarness(_db, _time);
        await using var db = h.Db();
        var body = Event("evt_x", "charge.refunded", """{"id":"ch_1"}""");
        var old = T(s_now.AddMinutes(-10));

        (await h.Webhooks(db).ReceiveAsync($"t={T(s_now)},v1={V1("whsec_wrong", T(s_now), body)}", Encoding.UTF8.GetBytes(body))).ShouldBe(WebhookOutcome.BadSignature);
        (await h.Webhooks(db).ReceiveAsync($"t={old},v1={V1("whsec_new", old, body)}", Encoding.UTF8.GetBytes(body))).ShouldBe(WebhookOutcome.BadSignature);
        (await h.Webhooks(db).ReceiveAsync(Signed(body), Encoding.UTF8.GetBytes(body))).ShouldBe(WebhookOutcome.Ignored);
        (await h.Webhooks(db).ReceiveAsync(Signed("not json"), Encoding.UTF8.GetBytes("not json"))).ShouldBe(WebhookOutcome.BadPayload);

        (await db.Set<StripeEvent>().Select(e => e.Id).ToListAsync()).ShouldBe(["evt_x"]);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task TheWebhookEndpointAnswers400ToABadSignatureAnd200ToAGoodOne()
    {
        await using var app = new WebhookApp();
        await app.InitializeAsync();
        using var client = app.CreateClient();
        var body = Event("evt_http", "payout.paid", """{"id":"po_1","status":"paid"}""");
        var now = T(DateTimeOffset.UtcNow);

        using var bad = new StringContent(body, Encoding.UTF8, "application/json");
        bad.Headers.Add("Stripe-Signature", $"t={now},v1={V1("whsec_other", now, body)}");
        (await client.PostAsync("/api/payouts/stripe/webhook", bad)).StatusCode.ShouldBe(System.Net.HttpStatusCode.BadRequest);

        using var good = new StringContent(body, Encoding.UTF8, "application/json");
        good.Headers.Add("Stripe-Signature", $"t={now},v1={V1("whsec_http", now, body)}");
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

    private static SignatureCheck Verify(string? header, string body, string[] secrets) =>
        StripeSignature.Verify(header, Encoding.UTF8.GetBytes(body), secrets, s_now, TimeSpan.FromSeconds(300));

    private static string Signed(string body) => $"t={T(s_now)},v1={V1("whsec_new", T(s_now), body)}";

    private static string Event(string id, string type, string obj) =>
        $$$"""{"id":"{{{id}}}","object":"event","type":"{{{type}}}","created":{{{T(s_now).ToString(CultureInfo.InvariantCulture)}}},"data":{"object":{{{obj}}}}}""";

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
