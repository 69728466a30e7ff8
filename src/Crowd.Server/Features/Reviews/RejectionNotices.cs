using Crowd.Server.Features.Notifications;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Reviews;

/// <summary>
/// What the contributor is told about their clip's review: a rejection (with the deadline to appeal when its ground takes the
/// pay back), the decision on its appeal, and pay taken back when a fraud rejection was not appealed in time.
/// </summary>
public static class RejectionNotices
{
    /// <summary>In the rejection's transaction: the contributor learns the reason by its label and can appeal from the notification.</summary>
    public static async Task RejectedAsync(CrowdDb db, Notifications.Notifications notifications, Guid clipId, RejectionReason reason, string? note,
        DateTimeOffset? appealBy, CancellationToken ct)
    {
        var about = await AboutAsync(db, clipId, ct);
        await notifications.NotifyAsync(about.ContributorId, NotificationKind.ClipRejected,
            about.Data with { Code = reason.Code(), Note = note, Until = appealBy }, ct);
    }

    /// <summary>In the transaction that took the pay back; <paramref name="taken"/> may be zero when it had been paid out.</summary>
    public static async Task PayTakenBackAsync(CrowdDb db, Notifications.Notifications notifications, Guid clipId, RejectionReason reason, Money taken,
        CancellationToken ct)
    {
        var about = await AboutAsync(db, clipId, ct);
        await notifications.NotifyAsync(about.ContributorId, NotificationKind.PayTakenBack, about.Data with
        {
            Code = reason.Code(),
            Amount = taken,
            Days = (int)ReviewRules.FraudAppealWindow.TotalDays,
        }, ct);
    }

    public static async Task AppealDecidedAsync(CrowdDb db, Notifications.Notifications notifications, Guid clipId, AppealOutcome outcome, string note,
        long? payReversedMinor, string currency, CancellationToken ct)
    {
        var about = await AboutAsync(db, clipId, ct);
        await notifications.NotifyAsync(about.ContributorId, NotificationKind.AppealDecided, about.Data with
        {
            Code = outcome == AppealOutcome.Reversed ? "reversed" : "upheld",
            Note = note,
            Amount = payReversedMinor is > 0 ? new Money(payReversedMinor.Value, currency) : null,
        }, ct);
    }

    private static async Task<(Guid ContributorId, NotificationData Data)> AboutAsync(CrowdDb db, Guid clipId, CancellationToken ct)
    {
        var clip = await (from c in db.Clips.AsNoTracking()
                          join j in db.Jobs on c.JobId equals j.Id
                          join p in db.Prompts on c.PromptId equals p.Id
                          where c.Id == clipId
                          select new { c.ContributorId, c.JobId, j.Terms.Title, p.Text }).SingleAsync(ct);
        return (clip.ContributorId, new NotificationData { JobId = clip.JobId, JobTitle = clip.Title, ClipId = clipId, Prompt = clip.Text });
    }
}
