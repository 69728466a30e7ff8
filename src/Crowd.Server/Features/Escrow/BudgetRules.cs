using Crowd.Server.Features.Earnings;
using Crowd.Server.Infrastructure.Web;

namespace Crowd.Server.Features.Escrow;

public static class BudgetRules
{
    public const int MaxTargetHours = 1_000_000;

    /// <summary>Pay for the target hours plus both fees, each rounded up as accruals round them.</summary>
    public static long BudgetMinor(int targetHours, long hourlyRateMinor, int platformFeeBp, int supplierFeeBp) =>
        CostOfHours(targetHours * PayCalculator.MsPerHour, hourlyRateMinor, platformFeeBp, supplierFeeBp);

    /// <summary>What the next hour of everyone working now costs the escrow; at least one person is assumed.</summary>
    public static long NextHourMinor(int peopleWorking, long hourlyRateMinor, int platformFeeBp, int supplierFeeBp) =>
        CostOfHours(Math.Max(1, peopleWorking) * PayCalculator.MsPerHour, hourlyRateMinor, platformFeeBp, supplierFeeBp);

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

    private static long CostOfHours(long ms, long rate, int platformFeeBp, int supplierFeeBp)
    {
        var pay = PayCalculator.PayForActiveTime(ms, rate);
        return pay + PayCalculator.Fee(pay, platformFeeBp) + PayCalculator.Fee(pay, supplierFeeBp);
    }
}
