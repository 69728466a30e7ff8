using Crowd.Server.Features.Earnings;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;

namespace Crowd.Server.Features.Escrow;

/// <summary>
/// A job's budget: target hours × hourly rate plus the disclosed fees, each rounded up as accruals round them. Every
/// figure is exact; a budget of <see cref="MaxBudgetMinor"/> or more is refused rather than computed.
/// </summary>
public static class BudgetRules
{
    /// <summary>The most hours of recording one job's budget may pay for.</summary>
    public const int MaxTargetHours = 100_000;

    /// <summary>A budget stays under 10^15 minor units (10 trillion in a two-decimal currency).</summary>
    public const long MaxBudgetMinor = Money.MaxMinor;

    /// <summary>Pay for the target hours plus both fees, each rounded up as accruals round them; refused (never wrapped) past the maximum.</summary>
    public static long BudgetMinor(int targetHours, long hourlyRateMinor, int platformFeeBp, int supplierFeeBp) =>
        TryBudgetMinor(targetHours, hourlyRateMinor, platformFeeBp, supplierFeeBp)
            ?? throw new AmountOutOfRangeException("targetHours", $"A budget of {targetHours} hours at {hourlyRateMinor} is above {MaxBudgetMinor}.");

    /// <summary>The budget, or null when it would be <see cref="MaxBudgetMinor"/> or more (or negative).</summary>
    public static long? TryBudgetMinor(int targetHours, long hourlyRateMinor, int platformFeeBp, int supplierFeeBp)
    {
        var cost = CostOfHours((Int128)targetHours * PayCalculator.MsPerHour, hourlyRateMinor, platformFeeBp, supplierFeeBp);
        return cost >= 0 && cost <= MaxBudgetMinor ? (long)cost : null;
    }

    /// <summary>What the next hour of everyone working now costs the escrow; at least one person is assumed.</summary>
    public static long NextHourMinor(int peopleWorking, long hourlyRateMinor, int platformFeeBp, int supplierFeeBp) =>
        MoneyMath.Narrow(CostOfHours((Int128)Math.Max(1, peopleWorking) * PayCalculator.MsPerHour, hourlyRateMinor, platformFeeBp, supplierFeeBp),
            "hourlyRate");

    public static IReadOnlyList<FieldError> Validate(int targetHours, int platformFeeBp, int supplierFeeBp)
    {
        var errors = new List<FieldError>();
        if (targetHours is < 1 or > MaxTargetHours)
        {
            errors.Add(new FieldError("targetHours", "Target hours must be between 1 and {0}.", MaxTargetHours));
        }
        if (platformFeeBp is < 0 or > PayCalculator.BasisPoints || supplierFeeBp is < 0 or > PayCalculator.BasisPoints)
        {
            errors.Add(new FieldError("fees", "Fees must be between 0 and 100 %."));
        }
        return errors;
    }

    /// <summary>The budget these terms add up to must stay under the maximum; the error names the field that was changed.</summary>
    public static IReadOnlyList<FieldError> ValidateTotal(int targetHours, long hourlyRateMinor, int platformFeeBp, int supplierFeeBp, string currency,
        string field) =>
        TryBudgetMinor(targetHours, hourlyRateMinor, platformFeeBp, supplierFeeBp) is null
            ? [new FieldError(field, "Target hours × hourly rate with fees comes to more than {0}, the most one job's budget can be. Lower the target hours or the rate.",
                Currencies.Format(new Money(MaxBudgetMinor, currency)))]
            : [];

    // Exact: hours × rate and the fees on it fit easily in an Int128, so nothing here can wrap; callers narrow.
    private static Int128 CostOfHours(Int128 ms, long rate, int platformFeeBp, int supplierFeeBp)
    {
        var pay = MoneyMath.CeilDiv(ms * rate, PayCalculator.MsPerHour);
        return pay + MoneyMath.CeilDiv(pay * platformFeeBp, PayCalculator.BasisPoints) + MoneyMath.CeilDiv(pay * supplierFeeBp, PayCalculator.BasisPoints);
    }
}
