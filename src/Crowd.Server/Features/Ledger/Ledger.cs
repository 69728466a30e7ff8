using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Ledger;

public enum LedgerAccountKind
{
    /// <summary>A job's escrow, owned by the job (and so by its requester organisation).</summary>
    Escrow = 1,
    ContributorPayable = 2,
    SupplierFeePayable = 3,
    PlatformFee = 4,
    PayoutsInFlight = 5,
    PaidOut = 6,
    /// <summary>Money outside the platform: bank transfers and card payments in, refunds out.</summary>
    External = 7,
    /// <summary>
    /// Pay the platform advanced for a job whose escrow ran dry, owned by the job: a balance at or below zero, what the
    /// job's requester owes the platform. The job's next funding repays it first.
    /// </summary>
    PlatformAdvance = 8,
}

public enum LedgerTransactionKind
{
    EscrowFunded = 1,
    Accrual = 2,
    PayoutCreated = 3,
    PayoutSettled = 4,
    PayoutFailed = 5,
    EscrowRefunded = 6,
    PayoutReversed = 7,
    Correction = 8,
}

public sealed class LedgerAccount
{
    public Guid Id { get; set; }
    public LedgerAccountKind Kind { get; set; }
    public Guid OwnerId { get; set; }
    public string Currency { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class LedgerTransaction
{
    public Guid Id { get; set; }
    public LedgerTransactionKind Kind { get; set; }
    public string Reference { get; set; } = "";
    public string IdempotencyKey { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed class LedgerEntry
{
    public long Id { get; set; }
    public Guid TransactionId { get; set; }
    public Guid AccountId { get; set; }
    public long AmountMinor { get; set; }
    public string Currency { get; set; } = "";
}

/// <summary>An account named by what it is; its id is derived from these three in the database.</summary>
public readonly record struct AccountRef(LedgerAccountKind Kind, Guid OwnerId, string Currency)
{
    /// <summary>The platform's own accounts (fees, payouts in flight, paid out, external money) have no owner.</summary>
    public static readonly Guid Platform = Guid.Empty;

    public static AccountRef Escrow(Guid jobId, string currency) => new(LedgerAccountKind.Escrow, jobId, currency);
    public static AccountRef Payable(Guid contributorId, string currency) => new(LedgerAccountKind.ContributorPayable, contributorId, currency);
    public static AccountRef SupplierFee(Guid supplierId, string currency) => new(LedgerAccountKind.SupplierFeePayable, supplierId, currency);
    public static AccountRef PlatformFee(string currency) => new(LedgerAccountKind.PlatformFee, Platform, currency);
    public static AccountRef InFlight(string currency) => new(LedgerAccountKind.PayoutsInFlight, Platform, currency);
    public static AccountRef PaidOut(string currency) => new(LedgerAccountKind.PaidOut, Platform, currency);
    public static AccountRef External(string currency) => new(LedgerAccountKind.External, Platform, currency);
    public static AccountRef Advance(Guid jobId, string currency) => new(LedgerAccountKind.PlatformAdvance, jobId, currency);
}

public sealed record LedgerLine(AccountRef Account, long AmountMinor);

/// <summary>One balanced transaction to post. The idempotency key makes posting it twice harmless.</summary>
public sealed record LedgerPosting(Guid Id, LedgerTransactionKind Kind, string Reference, string IdempotencyKey, IReadOnlyList<LedgerLine> Lines)
{
    /// <summary>Money moving from one account to another: the source goes down, the destination goes up.</summary>
    public static LedgerPosting Transfer(LedgerTransactionKind kind, string reference, string idempotencyKey, AccountRef from, AccountRef to, long amountMinor) =>
        new(Guid.CreateVersion7(), kind, reference, idempotencyKey, [new LedgerLine(from, -amountMinor), new LedgerLine(to, amountMinor)]);
}

internal sealed class LedgerAccountConfiguration : IEntityTypeConfiguration<LedgerAccount>
{
    public void Configure(EntityTypeBuilder<LedgerAccount> e)
    {
        e.ToTable("ledger_accounts");
        e.Property(a => a.Currency).HasMaxLength(3).IsFixedLength();
        e.HasIndex(a => new { a.Kind, a.OwnerId, a.Currency }).IsUnique();
    }
}

internal sealed class LedgerTransactionConfiguration : IEntityTypeConfiguration<LedgerTransaction>
{
    public void Configure(EntityTypeBuilder<LedgerTransaction> e)
    {
        e.ToTable("ledger_transactions");
        e.Property(t => t.Reference).HasMaxLength(200);
        e.Property(t => t.IdempotencyKey).HasMaxLength(200);
        e.HasIndex(t => t.IdempotencyKey).IsUnique();
    }
}

internal sealed class LedgerEntryConfiguration : IEntityTypeConfiguration<LedgerEntry>
{
    public void Configure(EntityTypeBuilder<LedgerEntry> e)
    {
        e.ToTable("ledger_entries");
        e.Property(x => x.Id).UseIdentityByDefaultColumn();
        e.Property(x => x.Currency).HasMaxLength(3).IsFixedLength();
        e.HasIndex(x => x.TransactionId);
        e.HasIndex(x => x.AccountId);
    }
}
