using Crowd.Server.Features.Notifications;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Scheduling;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.DeletionNotices;

/// <summary>
/// Reminds a buyer's requesters of deletion notices nobody acknowledged within <see cref="OverdueDays"/> days. Each
/// notice that becomes overdue causes one reminder, which counts all the organisation's overdue notices.
/// </summary>
public sealed class DeletionNoticeReminders(CrowdDb db, Notifications.Notifications notifications, TimeProvider clock)
{
    /// <summary>A week: long enough to delete from every copy, short enough that a contributor's withdrawal is not forgotten.</summary>
    public const int OverdueDays = 7;

    /// <summary>Returns how many people were told now; a repeated run tells nobody twice about the same notices.</summary>
    public async Task<int> TellOverdueAsync(CancellationToken ct)
    {
        var due = clock.GetUtcNow().AddDays(-OverdueDays);
        var overdue = await db.Set<DeletionNotice>().AsNoTracking()
            .Where(n => n.AcknowledgedAt == null && n.CreatedAt <= due)
            .GroupBy(n => n.OrganisationId)
            .Select(g => new { Organisation = g.Key, Count = g.Count(), Newest = g.Max(n => n.CreatedAt) })
            .ToListAsync(ct);
        var told = 0;
        foreach (var o in overdue)
        {
            // The notification and its mail commit together, one organisation at a time.
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            told += await notifications.NotifyOrganisationAsync(o.Organisation, NotificationKind.DeletionNoticesOverdue,
                new NotificationData { Count = o.Count, Days = OverdueDays }, ct, onceKey: $"deletion-overdue:{o.Newest.UtcTicks}");
            await tx.CommitAsync(ct);
        }
        return told;
    }
}

/// <summary>The scheduled run; the work is in <see cref="DeletionNoticeReminders"/>.</summary>
public sealed class DeletionNoticeRemindersJob(DeletionNoticeReminders reminders, ILogger<DeletionNoticeRemindersJob> logger) : IScheduledJob
{
    public const string Name = "deletion-notices-overdue";

    /// <summary>Hourly: a notice is at most an hour late in being called overdue, and a run that finds nothing new tells nobody.</summary>
    public const string Cron = "40 * * * *";

    public async Task RunAsync(DateTimeOffset scheduledFor, CancellationToken ct)
    {
        var told = await reminders.TellOverdueAsync(ct);
        if (told > 0)
        {
            logger.LogInformation("Told {Count} requesters of deletion notices left unacknowledged", told);
        }
    }
}
