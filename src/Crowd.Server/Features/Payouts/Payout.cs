using Crowd.Server.Features.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

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
    public const int MaxFailureReasonLength = 500;

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

internal sealed class PayoutAccountConfiguration : IEntityTypeConfiguration<PayoutAccount>
{
    public void Configure(EntityTypeBuilder<PayoutAccount> e)
    {
        e.ToTable("payout_accounts");
        e.HasKey(a => a.ContributorId);
        e.Property(a => a.PayeeName).HasMaxLength(200);
        e.Property(a => a.LegacyAccountNumber).HasColumnName("bank_account_reference").HasMaxLength(200);
        e.Property(a => a.AccountNumberLast4).HasMaxLength(4);
        e.Property(a => a.StripeAccountId).HasMaxLength(100);
        e.Property(a => a.Currency).HasMaxLength(3).IsFixedLength();
        e.HasIndex(a => a.StripeAccountId).IsUnique();
        e.HasOne<CrowdUser>().WithOne().HasForeignKey<PayoutAccount>(a => a.ContributorId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class PayoutRunConfiguration : IEntityTypeConfiguration<PayoutRun>
{
    public void Configure(EntityTypeBuilder<PayoutRun> e)
    {
        e.ToTable("payout_runs");
        e.Property(r => r.RunKey).HasMaxLength(100);
        e.Property(r => r.Node).HasMaxLength(200);
        e.HasIndex(r => r.RunKey).IsUnique();
    }
}

internal sealed class BankPayoutBatchConfiguration : IEntityTypeConfiguration<BankPayoutBatch>
{
    public void Configure(EntityTypeBuilder<BankPayoutBatch> e)
    {
        e.ToTable("bank_payout_batches");
        e.Property(b => b.Currency).HasMaxLength(3).IsFixedLength();
        e.HasIndex(b => new { b.RunId, b.Currency }).IsUnique();
        e.HasOne<PayoutRun>().WithMany().HasForeignKey(b => b.RunId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class PayoutConfiguration : IEntityTypeConfiguration<Payout>
{
    public void Configure(EntityTypeBuilder<Payout> e)
    {
        e.ToTable("payouts");
        e.Property(p => p.Currency).HasMaxLength(3).IsFixedLength();
        e.Property(p => p.ProviderReference).HasMaxLength(100);
        e.Property(p => p.FailureReason).HasMaxLength(Payout.MaxFailureReasonLength);
        e.Property(p => p.TransferGroup).HasMaxLength(100);
        e.Property(p => p.JobIds).HasMaxLength(500);
        e.HasIndex(p => new { p.RunId, p.ContributorId, p.Currency }).IsUnique();
        e.HasIndex(p => p.ContributorId);
        e.HasIndex(p => p.State);
        e.HasOne<PayoutRun>().WithMany().HasForeignKey(p => p.RunId).OnDelete(DeleteBehavior.Restrict);
        e.HasOne<BankPayoutBatch>().WithMany().HasForeignKey(p => p.BatchId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class StripeEventConfiguration : IEntityTypeConfiguration<StripeEvent>
{
    public void Configure(EntityTypeBuilder<StripeEvent> e)
    {
        e.ToTable("stripe_events");
        e.Property(x => x.Id).HasMaxLength(100);
        e.Property(x => x.Type).HasMaxLength(100);
    }
}
