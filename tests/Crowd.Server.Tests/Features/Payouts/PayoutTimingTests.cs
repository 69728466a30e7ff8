using Crowd.Server.Features.Payouts;

namespace Crowd.Server.Tests.Features.Payouts;

/// <summary>The payout schedule in plain words, from the cron expression (Crowd:Payouts:Cron) and now.</summary>
public sealed class PayoutTimingTests
{
    private static readonly DateTimeOffset s_at1420 = new(2026, 11, 28, 14, 20, 0, TimeSpan.Zero);

    [Fact]
    public void HourlyPayoutsAt1420AreNextAt1500AboutFortyMinutesFromNow() =>
        PayoutTiming.Of("0 * * * *", s_at1420).ShouldBe(
            new PayoutTiming(PayoutCadence.Hourly, 1, new DateTimeOffset(2026, 11, 28, 15, 0, 0, TimeSpan.Zero), Today: true, TimeUnit.Minutes, 40));

    [Fact]
    public void AFewSecondsBeforeTheRunItIsLessThanAMinuteAway() =>
        PayoutTiming.Of("0 * * * *", new DateTimeOffset(2026, 11, 28, 14, 59, 35, TimeSpan.Zero))!.InUnit.ShouldBe(TimeUnit.LessThanAMinute);

    [Fact]
    public void NinetySecondsRoundToTwoMinutesAndNinetyMinutesToTwoHours()
    {
        PayoutTiming.Of("0 * * * *", new DateTimeOffset(2026, 11, 28, 14, 58, 30, TimeSpan.Zero))!.InCount.ShouldBe(2);
        var daily = PayoutTiming.Of("0 16 * * *", new DateTimeOffset(2026, 11, 28, 14, 30, 0, TimeSpan.Zero))!;
        (daily.InUnit, daily.InCount).ShouldBe((TimeUnit.Hours, 2));
    }

    [Fact]
    public void ADailyRunTomorrowIsGivenWithItsDateAndInHours()
    {
        var timing = PayoutTiming.Of("15 3 * * *", s_at1420)!;

        timing.ShouldBe(new PayoutTiming(PayoutCadence.Daily, 1, new DateTimeOffset(2026, 11, 29, 3, 15, 0, TimeSpan.Zero), Today: false, TimeUnit.Hours, 13));
    }

    [Theory]
    [InlineData("*/15 * * * *", PayoutCadence.EveryMinutes, 15)]
    [InlineData("0 */6 * * *", PayoutCadence.EveryHours, 6)]
    [InlineData("0 9 * * MON", PayoutCadence.Weekly, 1)]
    [InlineData("0 9 * * MON-FRI", PayoutCadence.Irregular, 0)]
    public void TheCadenceIsReadFromTheGapsBetweenRuns(string cron, PayoutCadence cadence, int every)
    {
        var timing = PayoutTiming.Of(cron, s_at1420)!;

        (timing.Cadence, timing.Every).ShouldBe((cadence, every));
    }

    [Fact]
    public void AWeeklyRunSixDaysAwayIsCountedInDays()
    {
        var timing = PayoutTiming.Of("0 9 * * FRI", s_at1420)!; // 2026-11-28 is a Saturday

        (timing.Next, timing.InUnit, timing.InCount).ShouldBe((new DateTimeOffset(2026, 12, 4, 9, 0, 0, TimeSpan.Zero), TimeUnit.Days, 6));
    }

    [Fact]
    public void AScheduleThatDoesNotParseOrNeverFiresAgainHasNoNextPayout()
    {
        PayoutTiming.Of("every hour", s_at1420).ShouldBeNull();
        PayoutTiming.Of("0 0 12 1 1 ? 2020", s_at1420).ShouldBeNull(); // Quartz's old form, with seconds and a year
        PayoutTiming.Of("0 12 30 2 *", s_at1420).ShouldBeNull(); // 30 February
    }
}
