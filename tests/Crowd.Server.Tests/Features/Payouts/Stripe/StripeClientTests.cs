using System.Net;
using Crowd.Server.Features.Payouts.Stripe;
using Crowd.Server.Tests.Features.Payouts;
using Crowd.Server.Tests.Infrastructure;

namespace Crowd.Server.Tests.Features.Payouts.Stripe;

/// <summary>The Stripe client against a local server that checks each request exactly and answers as Stripe does.</summary>
public sealed class StripeClientTests : IAsyncLifetime
{
    private FakeStripe _stripe = null!;
    private PayoutHarness _h = null!;

    public async Task InitializeAsync()
    {
        _stripe = await FakeStripe.StartAsync();
        _h = new PayoutHarness("", new FakeTime(), _stripe.BaseAddress);
    }

    public async Task DisposeAsync() => await _stripe.DisposeAsync();

    [Fact]
    public async Task ATransferIsAFormEncodedPostWithNestedMetadataTheIdempotencyKeyAndThePinnedVersion()
    {
        var payout = Guid.Parse("0193f6a0-0000-7000-8000-000000000001");

        var transfer = await _h.Stripe().CreateTransferAsync(4500, "CNY", "acct_1Nv0FGQ9RKHgCVdK", "payout_run_abc",
            new Dictionary<string, string> { ["payout_id"] = payout.ToString(), ["contributor_id"] = "c-1" }, "payout-" + payout.ToString("N"));

        var request = _stripe.Requests.Single();
        request.Method.ShouldBe("POST");
        request.Path.ShouldBe("/v1/transfers");
        request.Header("Authorization").ShouldBe("Bearer sk_test_crowd");
        request.Header("Idempotency-Key").ShouldBe("payout-0193f6a0000070008000000000000001");
        request.Header("Stripe-Version").ShouldBe(_h.Options.Stripe.ApiVersion);
        request.Header("Content-Type").ShouldBe("application/x-www-form-urlencoded");
        request.Body.ShouldBe("amount=4500&currency=cny&destination=acct_1Nv0FGQ9RKHgCVdK&transfer_group=payout_run_abc"
            + "&metadata%5Bcontributor_id%5D=c-1&metadata%5Bpayout_id%5D=0193f6a0-0000-7000-8000-000000000001");
        request.Form["metadata[payout_id]"].ShouldBe(payout.ToString());
        transfer.Id.ShouldStartWith("tr_");
        (transfer.Amount, transfer.Currency, transfer.Destination, transfer.TransferGroup).ShouldBe((4500L, "cny", "acct_1Nv0FGQ9RKHgCVdK", "payout_run_abc"));
    }

    [Fact]
    public async Task AnExpressAccountItsOnboardingLinkAndItsStatusUseTheirEndpoints()
    {
        var contributor = Guid.NewGuid();
        var client = _h.Stripe();

        var account = await client.CreateExpressAccountAsync("wang@example.test", "CN", contributor, "acct-" + contributor);
        var link = await client.CreateAccountLinkAsync(account.Id, new Uri("https://crowd.test/Earnings?refresh=1"), new Uri("https://crowd.test/Earnings"), "link-1");
        _stripe.AccountStates[account.Id] = "enabled";
        var status = await client.GetAccountAsync(account.Id);

        var (create, linkRequest, get) = (_stripe.Requests[0], _stripe.Requests[1], _stripe.Requests[2]);
        (create.Method, create.Path).ShouldBe(("POST", "/v1/accounts"));
        create.Form.ShouldBe(new Dictionary<string, string>
        {
            ["type"] = "express", ["country"] = "CN", ["email"] = "wang@example.test", ["capabilities[transfers][requested]"] = "true",
            ["metadata[contributor_id]"] = contributor.ToString(),
        }, ignoreOrder: true);
        create.Header("Idempotency-Key").ShouldBe("acct-" + contributor);
        (linkRequest.Method, linkRequest.Path).ShouldBe(("POST", "/v1/account_links"));
        linkRequest.Form["type"].ShouldBe("account_onboarding");
        linkRequest.Form["account"].ShouldBe(account.Id);
        linkRequest.Form["return_url"].ShouldBe("https://crowd.test/Earnings");
        (get.Method, get.Path, get.Body).ShouldBe(("GET", "/v1/accounts/" + account.Id, ""));
        get.Header("Idempotency-Key").ShouldBeNull();
        get.Header("Stripe-Version").ShouldBe(_h.Options.Stripe.ApiVersion);
        link.Url.ShouldContain(account.Id);
        account.CanReceivePayouts.ShouldBeFalse();
        status.CanReceivePayouts.ShouldBeTrue();
    }

    [Fact]
    public async Task AnEscrowPaymentIntentCarriesTheJobInItsMetadataAndTransferGroup()
    {
        var job = Guid.Parse("0193f6a0-0000-7000-8000-0000000000aa");
        _stripe.Scripted.Enqueue((200, """{"id":"pi_3Mt","object":"payment_intent","amount":125000,"currency":"cny","status":"requires_payment_method","client_secret":"pi_3Mt_secret_x"}"""));

        var intent = await _h.Stripe().CreateEscrowPaymentIntentAsync(125_000, "CNY", job, "escrow-" + job);

        var request = _stripe.Requests.Single();
        (request.Method, request.Path).ShouldBe(("POST", "/v1/payment_intents"));
        request.Body.ShouldBe("amount=125000&currency=cny&automatic_payment_methods%5Benabled%5D=true&transfer_group=job_0193f6a00000700080000000000000aa"
            + "&metadata%5Bjob_id%5D=0193f6a0-0000-7000-8000-0000000000aa");
        request.Header("Idempotency-Key").ShouldBe("escrow-" + job);
        (intent.Id, intent.Amount, intent.ClientSecret).ShouldBe(("pi_3Mt", 125_000L, "pi_3Mt_secret_x"));
    }

    [Fact]
    public async Task StripesErrorJsonBecomesATypedErrorAndIsNotRetried()
    {
        var e = await Should.ThrowAsync<StripeException>(() => _h.Stripe().CreateTransferAsync(100, "usd", "not-an-account", "g",
            new Dictionary<string, string>(), "k-bad"));

        (e.Status, e.Kind, e.Code, e.Param, e.IsTransient).ShouldBe((HttpStatusCode.BadRequest, StripeErrorKind.InvalidRequest, "resource_missing", "destination", false));
        e.Message.ShouldBe("No such destination: not-an-account");
        e.RequestId.ShouldStartWith("req_");
        _stripe.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task RateLimitsAndServerErrorsAreRetriedWithTheSameIdempotencyKeyUntilTheyPass()
    {
        _stripe.Scripted.Enqueue((429, FakeStripe.Error("rate_limit_error", "rate_limit", "Too many requests.")));
        _stripe.Scripted.Enqueue((503, FakeStripe.Error("api_error", null, "Service unavailable.")));

        var transfer = await _h.Stripe().CreateTransferAsync(100, "usd", "acct_x", "g", new Dictionary<string, string>(), "k-retry");

        transfer.Id.ShouldStartWith("tr_");
        _stripe.Requests.Count.ShouldBe(3);
        _stripe.Requests.Select(r => r.Header("Idempotency-Key")).Distinct().ShouldBe(["k-retry"]);
        _stripe.Requests.Select(r => r.Body).Distinct().Count().ShouldBe(1);
    }

    [Fact]
    public async Task ServerErrorsBeyondTheRetryBudgetSurfaceAsATransientTypedError()
    {
        for (var i = 0; i < 5; i++)
        {
            _stripe.Scripted.Enqueue((500, FakeStripe.Error("api_error", null, "Internal error.")));
        }

        var e = await Should.ThrowAsync<StripeException>(() => _h.Stripe().CreateTransferAsync(100, "usd", "acct_x", "g", new Dictionary<string, string>(), "k-down"));

        (e.Kind, e.IsTransient).ShouldBe((StripeErrorKind.Api, true));
        _stripe.Requests.Count.ShouldBe(1 + _h.Options.Stripe.MaxRetries);
    }

    [Fact]
    public async Task AWrongSecretKeyIsAnAuthenticationErrorAndZeroAmountsNeverLeave()
    {
        _h.Options.Stripe.SecretKey = "sk_test_wrong";
        (await Should.ThrowAsync<StripeException>(() => _h.Stripe().GetAccountAsync("acct_x"))).Kind.ShouldBe(StripeErrorKind.Authentication);
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => _h.Stripe().CreateTransferAsync(0, "usd", "acct_x", "g", new Dictionary<string, string>(), "k0"));
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => _h.Stripe().CreateTransferAsync(-5, "usd", "acct_x", "g", new Dictionary<string, string>(), "k1"));
        _stripe.Requests.Count.ShouldBe(1);
    }
}
