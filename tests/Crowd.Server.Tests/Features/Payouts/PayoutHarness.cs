using Crowd.Server.Features.Payouts;
using Crowd.Server.Features.Payouts.BankFile;
using Crowd.Server.Features.Payouts.Stripe;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Tests.Features.Payouts;

public sealed class InjectedCrashException(PayoutStep step) : Exception("Injected crash at " + step)
{
    public InjectedCrashException()
        : this(PayoutStep.AfterCreate)
    {
    }

    public InjectedCrashException(string message)
        : this(PayoutStep.AfterCreate)
    {
        _ = message;
    }

    public InjectedCrashException(string message, Exception inner)
        : this(PayoutStep.AfterCreate)
    {
        _ = (message, inner);
    }
}

/// <summary>The payout services wired by hand, on a test database, with a fault hook and (optionally) the fake Stripe.</summary>
public sealed class PayoutHarness(string connectionString, FakeTime time, Uri? stripeBase = null, PayoutMode mode = PayoutMode.BankFile)
{
    public CrowdOptions Options { get; } = new()
    {
        Payouts = new PayoutOptions { MinimumMinor = 100, Mode = mode },
        Stripe = new StripeOptions { SecretKey = "sk_test_crowd", ApiBase = stripeBase ?? new Uri("http://127.0.0.1:9/"), RetryBaseDelayMs = 1, MaxRetries = 2,
            WebhookSecrets = ["whsec_old", "whsec_new"] },
    };

    public PayoutFaults Faults => field ??= new PayoutFaults(Microsoft.Extensions.Options.Options.Create(Options), NullLogger<PayoutFaults>.Instance);

    public StripeClient Stripe(HttpClient? http = null) =>
        new(http ?? new HttpClient(), Microsoft.Extensions.Options.Options.Create(Options), NullLogger<StripeClient>.Instance);

    public PayoutRunner Runner(CrowdDb db) =>
        new(db, Microsoft.Extensions.Options.Options.Create(Options), time, Faults, Stripe(), NullLogger<PayoutRunner>.Instance);

    public BankBatches Batches(CrowdDb db) => new(db, time, Faults, NullLogger<BankBatches>.Instance);

    public StripeWebhooks Webhooks(CrowdDb db) =>
        new(db, Microsoft.Extensions.Options.Options.Create(Options), time, new Crowd.Server.Features.Escrow.EscrowService(db, time, NullLogger<Crowd.Server.Features.Escrow.EscrowService>.Instance),
            NullLogger<StripeWebhooks>.Instance);

    public CrowdDb Db() => MoneyWorld.Open(connectionString);

    /// <summary>Crashes (throws) the first time the run reaches the step, then lets later runs through.</summary>
    public void CrashOnceAt(PayoutStep step, bool onlyForAPayout = false)
    {
        var crashed = 0;
        Faults.Hook = (at, payoutId) =>
            at == step && (!onlyForAPayout || payoutId is not null) && Interlocked.Exchange(ref crashed, 1) == 0
                ? throw new InjectedCrashException(step)
                : Task.CompletedTask;
    }
}
