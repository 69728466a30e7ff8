using System.Net;
using Crowd.Server.Features.Payouts.Stripe;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Tests.Features.Payouts;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Stripe;

namespace Crowd.Server.Tests.Features.Payouts.Stripe;

/// <summary>The platform's Stripe calls, through Stripe.net, against a local server that checks each request exactly and answers as Stripe does.</summary>
public sealed class StripeGatewayTests : IAsyncLifetime
{
    private FakeStripe _stripe = null!;
    private PayoutHarness _h = null!;

    public async Task InitializeAsync()
    {
        _stripe = await FakeStripe.StartAsync();
        _h = new PayoutHarness("", new FakeTimeProvider(MoneyWorld.ClockStart), _stripe.BaseAddress);
    }

    public async Task DisposeAsync() => await _stripe.DisposeAsync();

    private static void IsStripeShaped(RecordedRequest request, string method, string path, string? idempotencyKey)
    {
        (request.Method, request.Path).ShouldBe((method, path));
        request.Header("Authorization").ShouldBe("Bearer " + FakeStripe.SecretKey);
        request.Header("Stripe-Version").ShouldBe(FakeStripe.PinnedApiVersion);
        request.Header("Idempotency-Key").ShouldBe(idempotencyKey);
        if (method == "POST")
        {
            request.Header("Content-Type").ShouldStartWith("application/x-www-form-urlencoded");
        }
    }

    [Fact]
    public async Task ATransferIsAFormEncodedPostWithNestedMetadataTheIdempotencyKeyAndThePinnedVersion()
    {
        var payout = Guid.Parse("0193f6a0-0000-7000-8000-000000000001");

        var transfer = await _h.Stripe().CreateTransferAsync(new Money(4500, "CNY"), "acct_1Nv0FGQ9RKHgCVdK", "payout_run_abc",
            new Dictionary<string, string> { ["payout_id"] = payout.ToString(), ["contributor_id"] = "c-1" }, "payout-" + payout.ToString("N"));

        var request = _stripe.Requests.Single();
        IsStripeShaped(request, "POST", "/v1/transfers", "payout-0193f6a0000070008000000000000001");
        request.Form.ShouldBe(new Dictionary<string, string>
        {
            ["amount"] = "4500", ["currency"] = "cny", ["destination"] = "acct_1Nv0FGQ9RKHgCVdK", ["transfer_group"] = "payout_run_abc",
            ["metadata[payout_id]"] = payout.ToString(), ["metadata[contributor_id]"] = "c-1",
        }, ignoreOrder: true);
        request.Body.ShouldContain("metadata[payout_id]=0193f6a0-0000-7000-8000-000000000001", Case.Sensitive, "Stripe.net leaves the brackets of nested keys unescaped");
        transfer.Id.ShouldStartWith("tr_");
        (transfer.Amount, transfer.Currency, transfer.DestinationId, transfer.TransferGroup).ShouldBe((4500L, "cny", "acct_1Nv0FGQ9RKHgCVdK", "payout_run_abc"));
    }

    [Fact]
    public async Task AnExpressAccountItsOnboardingLinkAndItsStatusUseTheirEndpoints()
    {
        var contributor = Guid.NewGuid();
        var stripe = _h.Stripe();

        var account = await stripe.CreateExpressAccountAsync("wang@example.test", "CN", contributor);
        var link = await stripe.CreateOnboardingLinkAsync(account.Id, new Uri("https://crowd.test/Earnings?stripe=refresh"), new Uri("https://crowd.test/Earnings?stripe=return"), "link-1");
        _stripe.AccountStates[account.Id] = "enabled";
        var status = await stripe.GetAccountAsync(account.Id);

        var (create, linkRequest, get) = (_stripe.Requests[0], _stripe.Requests[1], _stripe.Requests[2]);
        IsStripeShaped(create, "POST", "/v1/accounts", "express-account-" + contributor.ToString("N"));
        create.Form.ShouldBe(new Dictionary<string, string>
        {
            ["type"] = "express", ["country"] = "CN", ["email"] = "wang@example.test", ["capabilities[transfers][requested]"] = "true",
            ["metadata[contributor_id]"] = contributor.ToString(),
        }, ignoreOrder: true);
        IsStripeShaped(linkRequest, "POST", "/v1/account_links", "link-1");
        linkRequest.Form.ShouldBe(new Dictionary<string, string>
        {
            ["account"] = account.Id, ["type"] = "account_onboarding",
            ["refresh_url"] = "https://crowd.test/Earnings?stripe=refresh", ["return_url"] = "https://crowd.test/Earnings?stripe=return",
        }, ignoreOrder: true);
        IsStripeShaped(get, "GET", "/v1/accounts/" + account.Id, null);
        get.Body.ShouldBeEmpty();
        link.Url.ShouldContain(account.Id);
        StripeGateway.CanReceivePayouts(account).ShouldBeFalse();
        StripeGateway.CanReceivePayouts(status).ShouldBeTrue();
    }

    [Fact]
    public async Task AnEscrowCheckoutAsksForTheAmountInOneLineAndCarriesTheJobToItsPaymentIntent()
    {
        var job = Guid.Parse("0193f6a0-0000-7000-8000-0000000000aa");

        var session = await _h.Stripe().CreateEscrowCheckoutAsync(job, "Escrow: Read Mandarin prompts", new Money(125_000, "CNY"),
            new Uri("https://crowd.test/Jobs/Edit?id=1&funding=card-paid"), new Uri("https://crowd.test/Jobs/Edit?id=1&funding=card-cancelled"),
            "buyer@example.test", "checkout-1");

        var request = _stripe.Requests.Single();
        IsStripeShaped(request, "POST", "/v1/checkout/sessions", "checkout-1");
        request.Form.ShouldBe(new Dictionary<string, string>
        {
            ["mode"] = "payment", ["client_reference_id"] = job.ToString(), ["customer_email"] = "buyer@example.test",
            ["success_url"] = "https://crowd.test/Jobs/Edit?id=1&funding=card-paid", ["cancel_url"] = "https://crowd.test/Jobs/Edit?id=1&funding=card-cancelled",
            ["line_items[0][quantity]"] = "1", ["line_items[0][price_data][currency]"] = "cny", ["line_items[0][price_data][unit_amount]"] = "125000",
            ["line_items[0][price_data][product_data][name]"] = "Escrow: Read Mandarin prompts",
            ["metadata[job_id]"] = job.ToString(), ["payment_intent_data[metadata][job_id]"] = job.ToString(),
            ["payment_intent_data[transfer_group]"] = "job_0193f6a00000700080000000000000aa",
        }, ignoreOrder: true);
        session.Id.ShouldStartWith("cs_test_");
        session.Url.ShouldBe(new Uri(_stripe.BaseAddress, "pay/" + session.Id).ToString());
        (session.AmountTotal, session.PaymentStatus).ShouldBe((125_000L, "unpaid"));
    }

    [Fact]
    public async Task StripesErrorJsonIsARefusalAndIsNotRetried()
    {
        var e = await Should.ThrowAsync<StripeException>(() => _h.Stripe().CreateTransferAsync(new Money(100, "USD"), "not-an-account", "g",
            new Dictionary<string, string>(), "k-bad"));

        (e.HttpStatusCode, e.StripeError.Type, e.StripeError.Code, e.StripeError.Param).ShouldBe((HttpStatusCode.BadRequest, "invalid_request_error", "resource_missing", "destination"));
        e.Message.ShouldBe("No such destination: not-an-account");
        (StripeGateway.IsRefusal(e), StripeGateway.IsTransient(e)).ShouldBe((true, false));
        _stripe.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task ServerErrorsAndLockTimeoutsAreRetriedWithTheSameIdempotencyKeyUntilTheyPass()
    {
        _stripe.Scripted.Enqueue(new ScriptedAnswer(429, FakeStripe.Error("invalid_request_error", "lock_timeout", "This object cannot be accessed right now."), ShouldRetry: true));
        _stripe.Scripted.Enqueue((503, FakeStripe.Error("api_error", null, "Service unavailable.")));

        var transfer = await _h.Stripe().CreateTransferAsync(new Money(100, "USD"), "acct_x", "g", new Dictionary<string, string>(), "k-retry");

        transfer.Id.ShouldStartWith("tr_");
        _stripe.Requests.Count.ShouldBe(3);
        _stripe.Requests.Select(r => r.Header("Idempotency-Key")).Distinct().ShouldBe(["k-retry"]);
        _stripe.Requests.Select(r => r.Body).Distinct().Count().ShouldBe(1);
        _stripe.TransfersCreated.ShouldBe(1);
    }

    [Fact]
    public async Task ARateLimitIsNotRetriedAtOnceButCountsAsWorthTryingLater()
    {
        _stripe.Scripted.Enqueue((429, FakeStripe.Error("rate_limit_error", "rate_limit", "Too many requests.")));

        var e = await Should.ThrowAsync<StripeException>(() => _h.Stripe().CreateTransferAsync(new Money(100, "USD"), "acct_x", "g", new Dictionary<string, string>(), "k-busy"));

        e.HttpStatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        (StripeGateway.IsTransient(e), StripeGateway.IsRefusal(e)).ShouldBe((true, false));
        _stripe.Requests.Count.ShouldBe(1, "retrying a rate limit at once only adds to the load that caused it");
    }

    [Fact]
    public async Task ServerErrorsBeyondTheRetryBudgetSurfaceAsTransient()
    {
        for (var i = 0; i < 5; i++)
        {
            _stripe.Scripted.Enqueue((500, FakeStripe.Error("api_error", null, "Internal error.")));
        }

        var e = await Should.ThrowAsync<StripeException>(() => _h.Stripe().CreateTransferAsync(new Money(100, "USD"), "acct_x", "g", new Dictionary<string, string>(), "k-down"));

        (e.HttpStatusCode, StripeGateway.IsTransient(e)).ShouldBe((HttpStatusCode.InternalServerError, true));
        _stripe.Requests.Count.ShouldBe(1 + _h.Options.Stripe.MaxRetries);
    }

    [Fact]
    public async Task AnUnreachableStripeIsWorthTryingLater()
    {
        var unreachable = new PayoutHarness("", new FakeTimeProvider(MoneyWorld.ClockStart), new Uri("http://127.0.0.1:9/"));
        unreachable.Options.Stripe.MaxRetries = 0;

        var e = await Should.ThrowAsync<HttpRequestException>(() => unreachable.Stripe().GetAccountAsync("acct_x"));

        StripeGateway.IsTransient(e).ShouldBeTrue();
    }

    [Fact]
    public async Task AWrongSecretKeyIsARefusalAndZeroAmountsNeverLeave()
    {
        _h.Options.Stripe.SecretKey = "sk_test_wrong";
        var e = await Should.ThrowAsync<StripeException>(() => _h.Stripe().GetAccountAsync("acct_x"));
        (e.HttpStatusCode, StripeGateway.IsRefusal(e)).ShouldBe((HttpStatusCode.Unauthorized, true));
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => _h.Stripe().CreateTransferAsync(new Money(0, "USD"), "acct_x", "g", new Dictionary<string, string>(), "k0"));
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => _h.Stripe().CreateTransferAsync(new Money(-5, "USD"), "acct_x", "g", new Dictionary<string, string>(), "k1"));
        _stripe.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task WithoutASecretKeyNothingIsSentAndTheCallIsRefused()
    {
        _h.Options.Stripe.SecretKey = null;

        var e = await Should.ThrowAsync<StripeException>(() => _h.Stripe().GetAccountAsync("acct_x"));

        StripeGateway.IsRefusal(e).ShouldBeTrue();
        _stripe.Requests.ShouldBeEmpty();
    }
}
