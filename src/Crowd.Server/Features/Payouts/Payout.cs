namespace Crowd.Server.Features.Payouts;

public enum PayoutProvider
{
    BankFile = 1,
    Stripe = 2,
}

/// <summary>created → sending → sent → settled | failed. Each step is one committed transition.</summary>
public enum PayoutState
{
    Created = 0,
    Sending = 1,
    Sent = 2,
    Settled = 3,
    Failed = 4,
}

public sealed class Payout
{
    public Guid Id { get; set; }
    public Guid RunId { get; set; }
    public Guid ContributorId { get; set; }
    public string Currency { get; set; } = "";
    public long AmountMinor { get; set; }
    public PayoutProvider Provider { get; set; }
    public PayoutState State { get; set; }
    public Guid? BatchId { get; set; }
    /// <summary>Stripe transfer_group, fixed at the first send (see migration 0026).</summary>
    public string? TransferGroup { get; set; }
    /// <summary>The jobs the paid money was earned on since the previous payout, comma-separated; sent as metadata.</summary>
    public string? JobIds { get; set; }
    /// <summary>The Stripe transfer id, once known.</summary>
    public string? ProviderReference { get; set; }
    public string? FailureReason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    public DateTimeOffset? SettledAt { get; set; }
    public DateTimeOffset? FailedAt { get; set; }
}

public sealed class PayoutRun
{
    public Guid Id { get; set; }
    /// <summary>The scheduled fire time the run is for: one run per fire time, however many nodes fire it.</summary>
    public string RunKey { get; set; } = "";
    public string Node { get; set; } = "";
    /// <summary>How many times a run for this key started; more than one only after a crash.</summary>
    public int Attempts { get; set; }
    public bool PayoutsCreated { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}

/// <summary>What a bank-file payout method's account number is.</summary>
public enum PayoutAccountKind
{
    BankCard = 1,
    Alipay = 2,
    WeChatPay = 3,
}

/// <summary>How a contributor is paid. Payouts go only to an onboarded method.</summary>
public sealed class PayoutAccount
{
    public Guid ContributorId { get; set; }
    public PayoutProvider Provider { get; set; }
    public string PayeeName { get; set; } = "";
    public PayoutAccountKind? AccountKind { get; set; }
    /// <summary>The bank card number or Alipay / WeChat Pay account, encrypted (see <see cref="PayoutAccountNumbers"/>).</summary>
    public string? AccountNumberProtected { get; set; }
    /// <summary>The account number's last four characters, the only part shown.</summary>
    public string? AccountNumberLast4 { get; set; }
    /// <summary>An account number stored in clear before numbers were encrypted; encrypted and cleared at start-up.</summary>
    public string? LegacyAccountNumber { get; set; }
    public string? StripeAccountId { get; set; }
    /// <summary>The one currency the method accepts, when it is limited to one.</summary>
    public string? Currency { get; set; }
    public bool Onboarded { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public enum BankBatchState
{
    Written = 0,
    Sent = 1,
}

public sealed class BankPayoutBatch
{
    public Guid Id { get; set; }
    public Guid RunId { get; set; }
    public string Currency { get; set; } = "";
    public BankBatchState State { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    public Guid? SentByUserId { get; set; }
}

public sealed class StripeEvent
{
    public string Id { get; set; } = "";
    public string Type { get; set; } = "";
    public bool Handled { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
}
