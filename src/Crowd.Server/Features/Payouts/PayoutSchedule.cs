using Quartz;

namespace Crowd.Server.Features.Payouts;

public static class PayoutSchedule
{
    /// <summary>The next time the payout run fires after now, or null for an expression that does not parse or never fires again.</summary>
    public static DateTimeOffset? Next(string cron, DateTimeOffset now)
    {
        try
        {
            return new CronExpression(cron, TimeZoneInfo.Utc).GetNextValidTimeAfter(now);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
