using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Notifications;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Features.Payouts.BankFile;
using Crowd.Server.Features.Payouts.Stripe;
using Crowd.Server.Features.Reviews;
using Crowd.Server.Infrastructure;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Mail;
using Crowd.Server.Infrastructure.Scheduling;
using Crowd.Server.Tests.Infrastructure;
using Hangfire;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

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
public sealed class PayoutHarness(string connectionString, FakeTimeProvider time, Uri? stripeBase = null, PayoutMode mode = PayoutMode.BankFile)
{
    public CrowdOptions Options { get; } = new()
    {
        PublicUrl = new Uri("https://crowd.test/"),
        Payouts = new PayoutOptions { MinimumMinor = 100, Mode = mode },
        Stripe = new StripeOptions { SecretKey = FakeStripe.SecretKey, ApiBase = stripeBase ?? new Uri("http://127.0.0.1:9/"), MaxRetries = 2,
            WebhookSecrets = ["whsec_old", "whsec_new"] },
    };

    private IOptions<CrowdOptions> Wrapped => Microsoft.Extensions.Options.Options.Create(Options);

    public PayoutFaults Faults => field ??= new PayoutFaults(Wrapped, NullLogger<PayoutFaults>.Instance);

    /// <summary>Built from <see cref="Options"/> as they are when called, as the server builds its one client at start-up.</summary>
    public StripeGateway Stripe() => new(StripeGateway.CreateClient(Options.Stripe));

    public PayoutAccountNumbers Numbers { get; } = new(new EphemeralDataProtectionProvider(), NullLogger<PayoutAccountNumbers>.Instance);

    public PayoutRunner Runner(CrowdDb db) => new(db, Wrapped, time, Faults, Stripe(), Notices(db), NullLogger<PayoutRunner>.Instance);

    public BankBatches Batches(CrowdDb db) => new(db, time, Faults, Numbers, Notices(db), NullLogger<BankBatches>.Instance);

    public EscrowService Escrow(CrowdDb db) => new(db, time, NullLogger<EscrowService>.Instance);

    public StripeRefunds Refunds(CrowdDb db) => new(db, Stripe(), time, NullLogger<StripeRefunds>.Instance);

    /// <summary>Mail is only stored here: no SMTP server is configured, so nothing is enqueued to send it.</summary>
    public Outbox Outbox(CrowdDb db) => new(db, time, new MailDelivery(db, new SmtpTransport(Wrapped),
        new BackgroundJobs(new BackgroundJobClient(Crowd.Server.Infrastructure.Scheduling.Scheduling.CreateStorage(connectionString, Options.Scheduler)), db, NullLogger<BackgroundJobs>.Instance),
        time, Wrapped, NullLogger<MailDelivery>.Instance));

    private static readonly ResourceManagerStringLocalizerFactory s_localizers =
        new(Microsoft.Extensions.Options.Options.Create(new LocalizationOptions()), NullLoggerFactory.Instance);

    public Crowd.Server.Features.Notifications.Notifications Notifications(CrowdDb db) => new(db, Outbox(db),
        new NotificationTexts(new StringLocalizer<NotificationsText>(s_localizers), new StringLocalizer<ReviewsText>(s_localizers),
            new StringLocalizer<EscrowText>(s_localizers)), time, Wrapped);

    public PayoutNotices Notices(CrowdDb db) => new(db, Notifications(db));

    public FundedJobs Funded(CrowdDb db)
    {
        var jobs = new JobService(db, time, new StringLocalizer<RateFloorsText>(s_localizers), Escrow(db), Refunds(db), Notifications(db), Wrapped);
        return new FundedJobs(db, jobs, Notifications(db), time, NullLogger<FundedJobs>.Instance);
    }

    public StripeWebhooks Webhooks(CrowdDb db) => new(db, Wrapped, time, Escrow(db), Funded(db), Notices(db), NullLogger<StripeWebhooks>.Instance);

    public BankTransfers BankTransfers(CrowdDb db) => new(db, Escrow(db), Funded(db), NullLogger<BankTransfers>.Instance);

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
