using Crowd.Server.Features.Notifications;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Payouts;

/// <summary>
/// Tells contributors that a payout left (a Stripe transfer accepted, a bank file sent) and that it was paid. Call in
/// the transaction of the step; each payout's step is told once, however often the step is replayed.
/// </summary>
public sealed class PayoutNotices(CrowdDb db, Notifications.Notifications notifications)
{
    public Task<int> SentAsync(Guid payoutId, CancellationToken ct) =>
        TellAsync(NotificationKind.PayoutSent, "sent", db.Set<Payout>().Where(p => p.Id == payoutId && p.State == PayoutState.Sent), ct);

    public Task<int> BatchSentAsync(Guid batchId, CancellationToken ct) =>
        TellAsync(NotificationKind.PayoutSent, "sent", db.Set<Payout>().Where(p => p.BatchId == batchId && p.State == PayoutState.Sent), ct);

    public Task<int> PaidAsync(Guid payoutId, CancellationToken ct) =>
        TellAsync(NotificationKind.PayoutPaid, "paid", db.Set<Payout>().Where(p => p.Id == payoutId && p.State == PayoutState.Settled), ct);

    public Task<int> BatchPaidAsync(Guid batchId, CancellationToken ct) =>
        TellAsync(NotificationKind.PayoutPaid, "paid", db.Set<Payout>().Where(p => p.BatchId == batchId && p.State == PayoutState.Settled), ct);

    private async Task<int> TellAsync(NotificationKind kind, string step, IQueryable<Payout> payouts, CancellationToken ct)
    {
        var rows = await payouts.AsNoTracking().Select(p => new { p.Id, p.ContributorId, p.AmountMinor, p.Currency }).ToListAsync(ct);
        return await notifications.NotifyManyAsync(kind, rows.Select(p => new NotificationRecipient(p.ContributorId,
            new NotificationData { Amount = new Money(p.AmountMinor, p.Currency.Trim()) }, $"payout:{p.Id}:{step}")).ToList(), ct);
    }
}
