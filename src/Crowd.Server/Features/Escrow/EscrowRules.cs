using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;

namespace Crowd.Server.Features.Escrow;

/// <summary>What a job's escrow holds and what the platform advanced when it ran dry.</summary>
public readonly record struct EscrowBalance(long HeldMinor, long AdvancedMinor)
{
    /// <summary>The escrow net of what the platform advanced: negative while the requester owes the platform.</summary>
    public long NetMinor => HeldMinor - AdvancedMinor;
}

/// <summary>How money moves into and out of a job's escrow. Pure: the database enforces the same bounds at commit.</summary>
/// <remarks>
/// The escrow never goes below zero. Pay for time is never withheld for lack of escrow either: when an accrual costs more
/// than the escrow holds (people still working as the job pauses, or after it closed and was refunded), the platform
/// advances the rest, and the job's next funding repays the advance before anything goes into the escrow.
/// </remarks>
public static class EscrowRules
{
    /// <summary>The most one escrow holds, and so the most one funding brings: the largest budget.</summary>
    public const long MaxEscrowMinor = BudgetRules.MaxBudgetMinor;

    /// <summary>The bank's own reference for a transfer, as the requester copies it from the statement.</summary>
    public const int MaxBankReferenceLength = 150;

    /// <summary>The most the platform advances on one job before the database refuses further accruals on it.</summary>
    public const long MaxAdvanceMinor = BudgetRules.MaxBudgetMinor;

    /// <summary>An accrual of cost minor units: how much comes out of the escrow and how much the platform advances.</summary>
    public static (long FromEscrow, long Advanced) Draw(EscrowBalance balance, long costMinor)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(costMinor);
        var fromEscrow = Math.Min(costMinor, Math.Max(0, balance.HeldMinor));
        return (fromEscrow, costMinor - fromEscrow);
    }

    /// <summary>Money coming into the escrow (a funding, a refund that bounced): the advance is repaid first, the rest is held.</summary>
    public static (long Repaid, long Held) Receive(EscrowBalance balance, long amountMinor)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(amountMinor);
        var repaid = Math.Min(amountMinor, Math.Max(0, balance.AdvancedMinor));
        return (repaid, amountMinor - repaid);
    }

    /// <summary>A closed job's escrow: what repays the advance and what goes back to the requester.</summary>
    public static (long Repaid, long Refunded) Release(EscrowBalance balance)
    {
        var held = Math.Max(0, balance.HeldMinor);
        var repaid = Math.Min(held, Math.Max(0, balance.AdvancedMinor));
        return (repaid, held - repaid);
    }

    /// <summary>A funding's amount on its own: more than zero, and no more than one escrow can ever hold.</summary>
    public static IReadOnlyList<FieldError> ValidateFunding(long amountMinor, string currency)
    {
        if (amountMinor <= 0)
        {
            return [new FieldError("amount", "The amount must be more than zero.")];
        }
        return amountMinor > MaxEscrowMinor
            ? [new FieldError("amount", "The amount {0} is more than one job's escrow can ever hold ({1}). Check the figure: it looks like a typing mistake.",
                Currencies.Format(new Money(amountMinor, currency)), Currencies.Format(new Money(MaxEscrowMinor, currency)))]
            : [];
    }

    /// <summary>A funding into an escrow that holds this balance now must not take it past the maximum.</summary>
    public static IReadOnlyList<FieldError> ValidateFunding(long amountMinor, string currency, EscrowBalance balance)
    {
        var errors = ValidateFunding(amountMinor, currency);
        if (errors.Count > 0)
        {
            return errors;
        }
        var (_, held) = Receive(balance, amountMinor);
        return (Int128)balance.HeldMinor + held > MaxEscrowMinor
            ? [new FieldError("amount", "With this amount the job's escrow would hold more than {0}, the most one escrow can hold. It holds {1} now.",
                Currencies.Format(new Money(MaxEscrowMinor, currency)), Currencies.Format(new Money(balance.HeldMinor, currency)))]
            : [];
    }
}
