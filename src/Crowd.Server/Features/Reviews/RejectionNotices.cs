using Crowd.Server.Features.Notifications;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Reviews;

/// <summary>What the contributor is told about their clip's review: a rejection and, later, the decision on its appeal.</summary>
public static class RejectionNotices
{
    /// <summary>In the rejection's transaction: the contributor learns the reason by its label and can appeal from the notification.</summary>
    public static async Task RejectedAsync(CrowdDb db, Notifications.Notifications notifications, Guid clipId, RejectionReason reason, string? note,
        CancellationToken ct)
    {
        var about = await AboutAsync(db, clipId, ct);
        await notifications.NotifyAsync(about.ContributorId, NotificationKind.ClipRejected,
            about.Data with { Code = reason.Code(), Note = note }, ct);
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
                          select new { c.ContributorId, c.JobId, j.Title, p.Text }).SingleAsync(ct);
        return (clip.ContributorId, new NotificationData { JobId = clip.JobId, JobTitle = clip.Title, ClipId = clipId, Prompt = clip.Text });
    }
}
