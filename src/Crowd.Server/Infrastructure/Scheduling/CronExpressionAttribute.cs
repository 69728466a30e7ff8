using System.ComponentModel.DataAnnotations;

namespace Crowd.Server.Infrastructure.Scheduling;

/// <summary>A setting that must be a cron expression the scheduler can run (see <see cref="ScheduledJob.IsValidCron"/>).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class CronExpressionAttribute() : ValidationAttribute(
    "{0} is not a cron expression Crowd can use: five fields, minute hour day-of-month month day-of-week, in UTC (for example \"0 * * * *\" for hourly).")
{
    public override bool IsValid(object? value) => value is string cron && ScheduledJob.IsValidCron(cron);
}
