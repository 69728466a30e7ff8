using System.ComponentModel.DataAnnotations;
using Crowd.Server.Infrastructure.Scheduling;

namespace Crowd.Server.Infrastructure;

/// <summary>
/// The platform's settings, bound once from the "Crowd" section (appsettings + environment, e.g. Crowd__DataDirectory) and
/// the connection strings by <see cref="CrowdOptionsSetup.AddSettings"/>, and validated by their annotations at start-up.
/// </summary>
public sealed class CrowdOptions
{
    public const string Section = "Crowd";

    /// <summary>Where people reach the platform when none is configured outside Production.</summary>
    public static readonly Uri DevelopmentPublicUrl = new("http://localhost:5000/");

    /// <summary>
    /// The address people reach the platform at, like https://crowd.example.org (Crowd__PublicUrl). Every link in mail is
    /// built from it and browsers' requests must come from it, never from a request's Host header. Production refuses to
    /// start without it; elsewhere it defaults to <see cref="DevelopmentPublicUrl"/>.
    /// </summary>
    public Uri? PublicUrl { get; set; }

    /// <summary>Where the embedded PostgreSQL and other local state live when nothing else is configured. Relative to the repository root.</summary>
    [Required]
    public string DataDirectory { get; set; } = ".crowd";

    /// <summary>ConnectionStrings:Crowd and ConnectionStrings:CrowdOwner; none means the embedded PostgreSQL.</summary>
    public ConnectionStringOptions ConnectionStrings { get; set; } = new();

    public RateLimitOptions RateLimits { get; set; } = new();

    public AdminSeedOptions Admin { get; set; } = new();

    public RecordingOptions Recording { get; set; } = new();

    public ClipStoreOptions Clips { get; set; } = new();

    public KeyOptions Keys { get; set; } = new();
    public PayoutOptions Payouts { get; set; } = new();

    public StripeOptions Stripe { get; set; } = new();

    public FundingOptions Funding { get; set; } = new();

    public SchedulerOptions Scheduler { get; set; } = new();

    public ReviewOptions Reviews { get; set; } = new();

    public RetentionOptions Retention { get; set; } = new();

    public WebhookOptions Webhooks { get; set; } = new();

    public ExportOptions Exports { get; set; } = new();

    public MailOptions Mail { get; set; } = new();

    public OrleansOptions Orleans { get; set; } = new();
}

/// <summary>The "ConnectionStrings" section, outside "Crowd" where hosting tools look for it.</summary>
public sealed class ConnectionStringOptions
{
    public const string Section = "ConnectionStrings";

    /// <summary>The server's own connections: the application role.</summary>
    public string? Crowd { get; set; }

    /// <summary>The schema owner, for migrations; the same as <see cref="Crowd"/> when empty.</summary>
    public string? CrowdOwner { get; set; }
}

/// <summary>Every node is an Orleans silo. With no Redis it is a cluster of one on loopback; with Redis, nodes find each other.</summary>
public sealed class OrleansOptions
{
    /// <summary>StackExchange.Redis configuration string (e.g. "redis:6379"). Empty: a single node, nothing else to run.</summary>
    public string? Redis { get; set; }

    /// <summary>Nodes with the same cluster id form one cluster; a fresh id starts a cluster with no memory of dead silos.</summary>
    [Required]
    public string ClusterId { get; set; } = "crowd";

    /// <summary>Silo-to-silo port; 0 picks a free one (the default of a single node).</summary>
    [Range(0, 65535)]
    public int SiloPort { get; set; }

    /// <summary>The address other silos reach this one at; empty means the first non-loopback address (loopback for a single node).</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>Run under Kubernetes: silo name, address and cluster membership come from the pod (Microsoft.Orleans.Hosting.Kubernetes).</summary>
    public bool Kubernetes { get; set; }
}

public sealed class ReviewOptions
{
    public const int MaxAutoAcceptDays = 14;

    /// <summary>A clip nobody reviewed within this many days is accepted automatically (1 to 14).</summary>
    [Range(1, MaxAutoAcceptDays)]
    public int AutoAcceptDays { get; set; } = 7;

    /// <summary>Cron expression of the auto-accept run (five fields, UTC). Hourly at minute 5 by default.</summary>
    [CronExpression]
    public string AutoAcceptCron { get; set; } = "5 * * * *";

    /// <summary>
    /// Cron expression of the run that takes back the pay of fraud rejections not appealed within their window (five
    /// fields, UTC). Hourly at minute 35 by default, so the pay goes within the hour after the window ends.
    /// </summary>
    [CronExpression]
    public string FraudAppealCron { get; set; } = "35 * * * *";
}

public sealed class RetentionOptions
{
    /// <summary>Cron expression of the retention run (five fields, UTC). Daily at 03:15 by default.</summary>
    [CronExpression]
    public string Cron { get; set; } = "15 3 * * *";

    /// <summary>Clips destroyed per transaction.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 200;
}

public sealed class WebhookOptions
{
    /// <summary>Attempts before a delivery is marked failed (it stays visible to the requester and admins).</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Wait before the second attempt; doubled for every further one, at most six hours.</summary>
    [Range(0.001, 86_400)]
    public double RetryBaseSeconds { get; set; } = 30;

    [Range(1, 600)]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>Webhook URLs must be https unless this is set (local development and tests).</summary>
    public bool AllowInsecureUrls { get; set; }
}

public sealed class ExportOptions
{
    /// <summary>How long a contributor's prepared export can be downloaded before its file is deleted.</summary>
    [Range(1, 24 * 30)]
    public int DownloadHours { get; set; } = 24;

    /// <summary>A preparation whose node has not reported progress for this long may be taken over by another node.</summary>
    [Range(1, 86_400)]
    public int StaleBuildSeconds { get; set; } = 120;
}

public sealed class MailOptions
{
    /// <summary>The sender address of every mail.</summary>
    [Required]
    public string From { get; set; } = "Crowd <no-reply@crowd.invalid>";

    public SmtpOptions Smtp { get; set; } = new();
}

public sealed class SmtpOptions
{
    /// <summary>When empty, mail is stored and readable on /Admin/Mailbox but not sent.</summary>
    public string? Host { get; set; }
    [Range(1, 65535)]
    public int Port { get; set; } = 587;
    public bool EnableSsl { get; set; } = true;
    public string? UserName { get; set; }
    public string? Password { get; set; }
}

public sealed class SchedulerOptions
{
    /// <summary>
    /// Whether this node runs the Hangfire job server: it works the shared queue (webhook deliveries, mail, exports) and
    /// fires the recurring jobs (payouts, retention, auto-accept…). A node with it off still enqueues jobs.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Jobs this node runs at once.</summary>
    [Range(1, 100)]
    public int Workers { get; set; } = 4;

    /// <summary>How often recurring and delayed jobs are looked for (enqueued jobs start at once, by LISTEN/NOTIFY).</summary>
    [Range(1, 3600)]
    public int PollSeconds { get; set; } = 15;

    /// <summary>A job whose node stopped (crashed, killed) is run again by another node after this many seconds (at least 30).</summary>
    [Range(30, 86_400)]
    public int TakeoverSeconds { get; set; } = 300;
}

public enum PayoutMode
{
    /// <summary>Payouts go into bank batch files an admin sends; needs no outside service.</summary>
    BankFile = 1,
    /// <summary>Contributors with a Stripe Express account are paid by Stripe Connect transfers; others by bank file.</summary>
    Stripe = 2,
}

public sealed class PayoutOptions
{
    /// <summary>Cron expression of the payout run (five fields, UTC). Hourly on the hour by default.</summary>
    [CronExpression]
    public string Cron { get; set; } = "0 * * * *";

    /// <summary>Payable below this (minor units, any currency) waits for the next run.</summary>
    [Range(1, long.MaxValue)]
    public long MinimumMinor { get; set; } = 100;

    [EnumDataType(typeof(PayoutMode))]
    public PayoutMode Mode { get; set; } = PayoutMode.BankFile;

    /// <summary>The platform's disclosed fee on new budgets, in basis points of contributor pay, paid by the requester on top.</summary>
    [Range(0, 10_000)]
    public int PlatformFeeBp { get; set; } = 1000;

    /// <summary>For crash tests only: the run stops at this step and waits until the process is killed.</summary>
    public Features.Payouts.PayoutStep? HoldAtStep { get; set; }
}

public sealed class StripeOptions
{
    /// <summary>The secret API key. Without it no Stripe call is made: card funding is not offered and Stripe payouts fail.</summary>
    public string? SecretKey { get; set; }

    /// <summary>Webhook signing secrets; more than one while a secret is being rotated.</summary>
    public List<string> WebhookSecrets { get; set; } = [];

    /// <summary>Where Stripe's API is; tests point it at a local fake.</summary>
    [Required]
    public Uri ApiBase { get; set; } = new("https://api.stripe.com/");

    [Range(1, 86_400)]
    public int WebhookToleranceSeconds { get; set; } = 300;

    /// <summary>
    /// Stripe.net's own retries of one call (lost connections, 409, 5xx, and 429 lock timeouts Stripe marks with
    /// Stripe-Should-Retry), with the same Idempotency-Key and a backoff from 0.5 s. A rate-limit 429 is not retried at
    /// once: the payout or refund waits for the next run, which sends it with the same key.
    /// </summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 2;

    [Range(1, 600)]
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>Country of new Express accounts.</summary>
    [Required, StringLength(2, MinimumLength = 2)]
    public string DefaultCountry { get; set; } = "US";

    /// <summary>
    /// Origins of hosted payment pages besides Stripe's own (checkout.stripe.com, connect.stripe.com) that pages may send
    /// the browser to after a form post: the content security policy's form-action allows these too. Tests add the local fake.
    /// </summary>
    public List<Uri> HostedPageOrigins { get; set; } = [];
}

public sealed class FundingOptions
{
    /// <summary>The platform's account requesters transfer escrow to, shown on each unfunded job with its payment reference.</summary>
    public BankAccountOptions Bank { get; set; } = new();
}

public sealed class BankAccountOptions
{
    public string? AccountName { get; set; }
    public string? BankName { get; set; }
    public string? AccountNumber { get; set; }
    /// <summary>SWIFT / BIC, for transfers from abroad.</summary>
    public string? SwiftCode { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(AccountName) && !string.IsNullOrWhiteSpace(AccountNumber);
}

public sealed class RateLimitOptions
{
    /// <summary>Sign-in and sign-up attempts per client address per minute.</summary>
    [Range(1, int.MaxValue)]
    public int AuthPerMinute { get; set; } = 20;

    /// <summary>API requests per caller (account, API key or address) per second, with a burst of the same size.</summary>
    [Range(1, int.MaxValue)]
    public int ApiPerSecond { get; set; } = 50;

    /// <summary>Requests with an API key that is wrong, malformed or revoked, per client address per minute; beyond it 429.</summary>
    [Range(1, int.MaxValue)]
    public int FailedApiKeysPerMinute { get; set; } = 20;
}

public sealed class AdminSeedOptions
{
    public string? Email { get; set; }
    public string? Password { get; set; }
}

public sealed class RecordingOptions
{
    /// <summary>How long a claimed prompt stays with a session; renewed while the contributor is active.</summary>
    [Range(1, 24 * 60)]
    public int ClaimMinutes { get; set; } = 10;

    /// <summary>The active-time clock stops this long after the last audio or interaction.</summary>
    [Range(1, 86_400)]
    public int IdleCutoffSeconds { get; set; } = 120;

    /// <summary>Active time is written to the database at least this often (and at every clip). At most 15.</summary>
    [Range(1, 15)]
    public int CheckpointSeconds { get; set; } = 10;

    /// <summary>
    /// How far a take's audio may run ahead of the wall time since the take began, in seconds. A microphone cannot get
    /// ahead at all, so a backlog after a stall or a reconnect is accepted at any speed; a client sending 250 ms chunks
    /// every 55 ms is stopped within a second.
    /// </summary>
    [Range(0, 3600)]
    public double AudioAheadSeconds { get; set; } = 1;

    /// <summary>The largest chunk accepted, in samples (250 ms at 16 kHz).</summary>
    [Range(1, 1_000_000)]
    public int MaxChunkSamples { get; set; } = 4_000;

    /// <summary>A take whose client sends nothing for this long is dropped.</summary>
    [Range(1, 3600)]
    public int StreamIdleSeconds { get; set; } = 5;

    /// <summary>Audio beyond this per take is refused, whatever the job allows.</summary>
    [Range(1, 3600)]
    public int MaxTakeSeconds { get; set; } = 60;

    /// <summary>How long a guardian's single-use confirmation link for a minor's consent stays valid.</summary>
    [Range(1, 365)]
    public int GuardianLinkDays { get; set; } = 7;
}

/// <summary>
/// Secret keys besides the clip master key (Crowd:Clips:MasterKey). Production supplies each one, base64 of 32 random
/// bytes, from a secret store (Crowd__Keys__DataProtection, Crowd__Keys__Audit); every node gets the same values.
/// </summary>
public sealed class KeyOptions
{
    /// <summary>Where keys that are not configured are generated once (folder 0700, files 0600); relative paths are under the data directory. Never inside the clips folder.</summary>
    [Required]
    public string Directory { get; set; } = "keys";

    /// <summary>Encrypts the data-protection keys (which sign cookies and protect webhook secrets) where they are stored: in the database.</summary>
    public string? DataProtection { get; set; }

    /// <summary>Keys the audit log's chain (HMAC-SHA256), so that whoever can write to the database alone cannot rebuild it.</summary>
    public string? Audit { get; set; }
}

public sealed class ClipStoreOptions
{
    /// <summary>Base64 of the 256-bit key that wraps every clip's own key. When empty, one is generated and kept in the data directory.</summary>
    public string? MasterKey { get; set; }

    /// <summary>Where encrypted clips are written; relative paths are under the data directory.</summary>
    [Required]
    public string Directory { get; set; } = "clips";

    /// <summary>An S3-compatible bucket instead of the directory, when its Endpoint is set (Crowd__Clips__S3__Endpoint=https://…).</summary>
    public S3ClipOptions S3 { get; set; } = new();
}

public sealed class S3ClipOptions
{
    public Uri? Endpoint { get; set; }
    [Required]
    public string Bucket { get; set; } = "crowd-clips";
    public string? AccessKey { get; set; }
    public string? SecretKey { get; set; }
    public string? Region { get; set; }
    /// <summary>Prepended to every object name, so that one bucket can hold several installations.</summary>
    public string? Prefix { get; set; }
}
