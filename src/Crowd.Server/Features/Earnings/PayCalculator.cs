using Crowd.Server.Infrastructure.Money;

namespace Crowd.Server.Features.Earnings;

public sealed record AccrualTotals(long ActiveMs, long AccruedMinor, long PlatformFeeMinor, long SupplierFeeMinor);

/// <summary>
/// Pay for time. Everything is computed from cumulative totals and rounded up, so the sum of the accruals of a
/// session is exactly ceil(active time × rate) — never less than rate × time, whatever the checkpoint pattern.
/// Products are exact (Int128); a result that does not fit in minor units is refused, naming its field, never wrapped.
/// </summary>
public static class PayCalculator
{
    public const long MsPerHour = 3_600_000;
    public const int BasisPoints = 10_000;

    public static long PayForActiveTime(long activeMs, long hourlyRateMinor) =>
        MoneyMath.CeilDiv((Int128)activeMs * hourlyRateMinor, MsPerHour, "hourlyRate");

    /// <summary>A fee of basisPoints / 10,000 of pay, rounded up (the requester pays the fraction, never the contributor).</summary>
    public static long Fee(long payMinor, int basisPoints) => MoneyMath.CeilDiv((Int128)payMinor * basisPoints, BasisPoints, "fees");

    /// <summary>The totals for a new cumulative time, or null when it adds nothing (a replayed or stale checkpoint).</summary>
    public static AccrualTotals? Advance(AccrualTotals current, long activeMsTotal, long hourlyRateMinor, int platformFeeBp, int supplierFeeBp)
    {
        if (activeMsTotal <= current.ActiveMs)
        {
            return null;
        }
        var pay = PayForActiveTime(activeMsTotal, hourlyRateMinor);
        return new AccrualTotals(activeMsTotal, pay, Fee(pay, platformFeeBp), Fee(pay, supplierFeeBp));
    }

    /// <summary>Accrued pay per hour of active time, rounded down: what a contributor is shown as their effective rate.</summary>
    public static long? EffectiveHourlyRate(long accruedMinor, long activeMs) =>
        activeMs <= 0 ? null : MoneyMath.Narrow((Int128)accruedMinor * MsPerHour / activeMs, "hourlyRate");
}
