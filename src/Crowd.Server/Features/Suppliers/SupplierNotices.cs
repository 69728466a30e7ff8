using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Notifications;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Scheduling;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Suppliers;

/// <summary>
/// What a supplier's staff are told: that an invitation brought enough people to show in figures, and that a month's
/// figures are final. Both speak of groups of at least <see cref="CellSuppression.MinPeople"/>, never of one person.
/// </summary>
public sealed class SupplierNotices(CrowdDb db, Notifications.Notifications notifications, TimeProvider clock)
{
    /// <summary>
    /// In the attribution's transaction: once the invitation counts <see cref="CellSuppression.MinPeople"/> people, the
    /// supplier hears of it, once. Fewer would let them guess who joined.
    /// </summary>
    public async Task InvitationUsedAsync(Guid invitationId, CancellationToken ct)
    {
        var invitation = await db.Set<SupplierInvitation>().AsNoTracking().FirstOrDefaultAsync(i => i.Id == invitationId, ct);
        if (invitation is null)
        {
            return;
        }
        var people = await db.Set<SupplierAttribution>().CountAsync(a => a.InvitationId == invitationId && a.DetachedAt == null, ct);
        if (people >= CellSuppression.MinPeople)
        {
            await notifications.NotifyOrganisationAsync(invitation.OrganisationId, NotificationKind.InvitationUsed,
                new NotificationData { Label = invitation.Label, Count = CellSuppression.MinPeople }, ct, onceKey: $"invitation:{invitationId}");
        }
    }

    /// <summary>
    /// After a month ends, every supplier that had anyone attributed then hears that its figures are final; a run that
    /// repeats tells nobody twice. Returns how many people were told now.
    /// </summary>
    public async Task<int> MonthlyFiguresAsync(CancellationToken ct)
    {
        var month = SupplierStats.MonthOf(clock.GetUtcNow()).AddMonths(-1);
        var start = new DateTimeOffset(month.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var end = start.AddMonths(1);
        var suppliers = await db.Organisations.AsNoTracking()
            .Where(o => o.Kind == OrganisationKind.Supplier
                        && db.Set<SupplierAttribution>().Any(a => a.OrganisationId == o.Id && a.AttributedAt < end && (a.DetachedAt == null || a.DetachedAt >= start)))
            .Select(o => o.Id).ToListAsync(ct);
        var name = SupplierStats.Name(month);
        var told = 0;
        foreach (var supplier in suppliers)
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            told += await notifications.NotifyOrganisationAsync(supplier, NotificationKind.MonthlyFigures, new NotificationData { Label = name }, ct,
                onceKey: "figures:" + name);
            await tx.CommitAsync(ct);
        }
        return told;
    }
}

/// <summary>The scheduled run; the work is in <see cref="SupplierNotices.MonthlyFiguresAsync"/>.</summary>
public sealed class MonthlyFiguresJob(SupplierNotices notices, ILogger<MonthlyFiguresJob> logger) : IScheduledJob
{
    public const string Name = "supplier-monthly-figures";

    /// <summary>
    /// Daily rather than on the 1st: a month's figures are told by the first run after it closes, even when no node ran
    /// on the 1st, and every later run that month finds them already told.
    /// </summary>
    public const string Cron = "30 2 * * *";

    public async Task RunAsync(DateTimeOffset scheduledFor, CancellationToken ct)
    {
        var told = await notices.MonthlyFiguresAsync(ct);
        if (told > 0)
        {
            logger.LogInformation("Told {Count} supplier staff that last month's figures are final", told);
        }
    }
}
