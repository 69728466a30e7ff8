using Crowd.Server.Infrastructure.Scheduling;

namespace Crowd.Server.Features.Payouts;

public enum PayoutCadence
{
    EveryMinutes,
    Hourly,
    EveryHours,
    Daily,
    Weekly,
    /// <summary>The gaps between runs differ (e.g. weekdays only): no single "every" describes it.</summary>
    Irregular,
}

public enum TimeUnit
{
    LessThanAMinute,
    Minutes,
    Hours,
    Days,
}

/// <summary>
/// When the next payout is, as a person reads it: how often payouts run, the next run, and how far away it is
/// ("Paid every hour; your next payout is at 15:00 UTC, about 40 minutes from now"). Pages turn it into words.
/// </summary>
/// <param name="Every">How many minutes or hours for <see cref="PayoutCadence.EveryMinutes"/> and <see cref="PayoutCadence.EveryHours"/>.</param>
/// <param name="Today">Whether the next run is on the same (UTC) day as now, so its time alone says when.</param>
/// <param name="InCount">How many <paramref name="InUnit"/> away it is, rounded.</param>
public sealed record PayoutTiming(PayoutCadence Cadence, int Every, DateTimeOffset Next, bool Today, TimeUnit InUnit, int InCount)
{
    /// <summary>From the payout schedule (five-field cron, UTC) and now; null when it does not parse or never fires again.</summary>
    public static PayoutTiming? Of(string cron, DateTimeOffset now)
    {
        if (ScheduledJob.Next(cron, now) is not { } next)
        {
            return null;
        }
        // A week and a day of runs: enough to see a gap that only weekends or one weekday make.
        var runs = new List<DateTimeOffset> { next };
        while (runs.Count < 400 && runs[^1] - next < TimeSpan.FromDays(8) && ScheduledJob.Next(cron, runs[^1]) is { } later)
        {
            runs.Add(later);
        }
        var gaps = runs.Zip(runs.Skip(1), (a, b) => b - a).Distinct().ToList();
        var (cadence, every) = gaps.Count == 1 ? CadenceOf(gaps[0]) : (PayoutCadence.Irregular, 0);
        var (unit, count) = Distance(next - now);
        return new PayoutTiming(cadence, every, next, next.UtcDateTime.Date == now.UtcDateTime.Date, unit, count);
    }

    private static (PayoutCadence, int) CadenceOf(TimeSpan gap) => gap switch
    {
        _ when gap == TimeSpan.FromHours(1) => (PayoutCadence.Hourly, 1),
        _ when gap == TimeSpan.FromDays(1) => (PayoutCadence.Daily, 1),
        _ when gap == TimeSpan.FromDays(7) => (PayoutCadence.Weekly, 1),
        _ when gap < TimeSpan.FromHours(1) && gap.Ticks % TimeSpan.TicksPerMinute == 0 => (PayoutCadence.EveryMinutes, (int)gap.TotalMinutes),
        _ when gap < TimeSpan.FromDays(1) && gap.Ticks % TimeSpan.TicksPerHour == 0 => (PayoutCadence.EveryHours, (int)gap.TotalHours),
        _ => (PayoutCadence.Irregular, 0),
    };

    private static (TimeUnit, int) Distance(TimeSpan until)
    {
        var minutes = (int)Math.Round(until.TotalMinutes, MidpointRounding.AwayFromZero);
        return minutes switch
        {
            < 1 => (TimeUnit.LessThanAMinute, 0),
            < 90 => (TimeUnit.Minutes, minutes),
            < 36 * 60 => (TimeUnit.Hours, (int)Math.Round(until.TotalHours, MidpointRounding.AwayFromZero)),
            _ => (TimeUnit.Days, (int)Math.Round(until.TotalDays, MidpointRounding.AwayFromZero)),
        };
    }
}
