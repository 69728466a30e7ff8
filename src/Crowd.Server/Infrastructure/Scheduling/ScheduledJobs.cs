using Cronos;
using Hangfire;
using Hangfire.Server;

namespace Crowd.Server.Infrastructure.Scheduling;

/// <summary>Work that runs on a schedule. <c>scheduledFor</c> is the occurrence this run is for, not the moment it started.</summary>
public interface IScheduledJob
{
    Task RunAsync(DateTimeOffset scheduledFor, CancellationToken ct);
}

/// <summary>One recurring job: its name (also its id in Hangfire and on the dashboard) and where its cron comes from.</summary>
public sealed record ScheduledJob(string Name, Func<CrowdOptions, string> Cron, bool EveryMissedRun)
{
    public static bool IsValidCron(string? cron) => TryParse(cron) is not null;

    /// <summary>The next occurrence after <paramref name="now"/>, or null for an expression that does not parse or never fires again.</summary>
    public static DateTimeOffset? Next(string? cron, DateTimeOffset now) => TryParse(cron)?.GetNextOccurrence(now, TimeZoneInfo.Utc);

    private static CronExpression? TryParse(string? cron)
    {
        if (string.IsNullOrWhiteSpace(cron) || cron.Split(' ', StringSplitOptions.RemoveEmptyEntries) is not { Length: 5 or 6 } parts)
        {
            return null;
        }
        return CronExpression.TryParse(cron, parts.Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard, out var parsed) ? parsed : null;
    }
}

/// <summary>
/// What Hangfire calls for every recurring job: one stable entry point (stored jobs name this type and the job's name,
/// never a feature's class), which hands the run to the feature's <see cref="IScheduledJob"/>.
/// </summary>
public sealed class ScheduledJobs(IServiceProvider services, TimeProvider clock)
{
    // Hangfire fills in the context and the token; a failed run is retried for the same occurrence.
    [JobDisplayName("{0}")]
    [AutomaticRetry(Attempts = 3, DelaysInSeconds = [60, 300, 900])]
    public Task RunAsync(string name, PerformContext? context, CancellationToken ct)
    {
        // "Time" is the occurrence Hangfire fired this job for; a run started by hand from the dashboard is for now.
        var time = context?.GetJobParameter<long?>("Time");
        var scheduledFor = time is { } seconds ? DateTimeOffset.FromUnixTimeSeconds(seconds) : clock.GetUtcNow();
        return services.GetRequiredKeyedService<IScheduledJob>(name).RunAsync(scheduledFor, ct);
    }
}
