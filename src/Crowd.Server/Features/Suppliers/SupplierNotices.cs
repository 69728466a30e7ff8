using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Notifications;
using Crowd.Server.Infrastructure.Database;
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
            told += await notifications.NotifyOrganisationAsync(supplier, NotificationKind.MonthlyFigures, new NotificationData { Label = name }, ct,
                onceKey: "figures:" + name);
        }
        return told;
    }
}
