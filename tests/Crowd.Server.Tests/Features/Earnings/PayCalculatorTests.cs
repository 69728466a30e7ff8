using Crowd.Server.Features.Earnings;

namespace Crowd.Server.Tests.Features.Earnings;

public sealed class PayCalculatorTests
{
    [Fact]
    public void PayIsRoundedUpSoEveryActiveMillisecondIsPaidAtLeastAtTheRate()
    {
        PayCalculator.PayForActiveTime(1, 2770).ShouldBe(1);
        PayCalculator.PayForActiveTime(3_600_000, 2770).ShouldBe(2770);
        PayCalculator.PayForActiveTime(60_000, 2770).ShouldBe(47); // 46.17 fen for a minute, rounded up
        PayCalculator.PayForActiveTime(0, 2770).ShouldBe(0);
    }

    [Fact]
    public void ManySmallCheckpointsAddUpToExactlyThePayForTheTotalTime()
    {
        var totals = new AccrualTotals(0, 0, 0, 0);
        long paid = 0;
        for (var ms = 7L; ms <= 3_600_000; ms += 7_919)
        {
            var next = PayCalculator.Advance(totals, ms, 2770, 1000, 500)!;
            paid += next.AccruedMinor - totals.AccruedMinor;
            totals = next;
        }

        paid.ShouldBe(PayCalculator.PayForActiveTime(totals.ActiveMs, 2770));
        (paid * PayCalculator.MsPerHour).ShouldBeGreaterThanOrEqualTo(totals.ActiveMs * 2770);
    }

    [Fact]
    public void AStaleOrRepeatedCheckpointAddsNothing()
    {
        var totals = PayCalculator.Advance(new AccrualTotals(0, 0, 0, 0), 600_000, 3000, 0, 0)!;

        PayCalculator.Advance(totals, 600_000, 3000, 0, 0).ShouldBeNull();
        PayCalculator.Advance(totals, 500_000, 3000, 0, 0).ShouldBeNull();
    }

    [Fact]
    public void FeesAreOnTopOfPayAndRoundedUp()
    {
        var totals = PayCalculator.Advance(new AccrualTotals(0, 0, 0, 0), 3_600_000, 3001, 1000, 250)!;

        totals.AccruedMinor.ShouldBe(3001);
        totals.PlatformFeeMinor.ShouldBe(301);
        totals.SupplierFeeMinor.ShouldBe(76);
    }

    [Fact]
    public void TheEffectiveRateIsRoundedDownAndNeverBelowTheRate()
    {
        PayCalculator.EffectiveHourlyRate(47, 60_000).ShouldBe(2820);
        PayCalculator.EffectiveHourlyRate(0, 0).ShouldBeNull();
    }
}
