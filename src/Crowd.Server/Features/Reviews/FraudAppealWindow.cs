using System.Text.Json;
using Crowd.Server.Features.Audit;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Scheduling;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Reviews;

/// <summary>
/// A rejection on a fraud ground (not a live voice, a duplicate) tells the contributor they have
/// <see cref="ReviewRules.FraudAppealWindow"/> to appeal. When the window has passed without an appeal, the clip's pay
/// is taken back through the ledger, capped as an upheld appeal caps it, and the contributor is told. Non-fraud grounds
/// carry no window and never take pay back. Run periodically; each rejection is settled once, whatever the number of runs.
/// </summary>
public sealed class FraudAppealWindow(CrowdDb db, ReviewService reviews, AuditLog audit, Notifications.Notifications notifications, TimeProvider clock)
{
    /// <summary>Settles every unappealed fraud rejection whose window has passed; returns how many.</summary>
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var due = await db.Set<ClipRejection>().AsNoTracking()
            .Where(r => r.AppealBy != null && r.AppealBy <= now && r.AppealedAt == null && r.PayTakenBackAt == null)
            .OrderBy(r => r.AppealBy).Select(r => r.ClipId).ToListAsync(ct);
        var settled = 0;
        foreach (var clipId in due)
        {
            if (await SettleAsync(clipId, now, ct))
            {
                settled++;
            }
        }
        return settled;
    }

    private async Task<bool> SettleAsync(Guid clipId, DateTimeOffset now, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // The row lock makes an appeal sent at this very moment and this run wait for each other: one of them wins.
        var rejection = await db.Set<ClipRejection>()
            .FromSql($"SELECT * FROM clip_rejections WHERE clip_id = {clipId} FOR UPDATE").SingleOrDefaultAsync(ct);
        if (rejection is not { AppealBy: { } appealBy, AppealedAt: null, PayTakenBackAt: null } || appealBy > now)
        {
            return false;
        }
        var clip = await db.Clips.AsNoTracking().SingleAsync(c => c.Id == clipId, ct);
        var currency = await db.Jobs.Where(j => j.Id == clip.JobId).Select(j => j.Terms.Currency).SingleAsync(ct);
        var taken = new Money(await reviews.ReversePayAsync(clip, now, "fraud rejection not appealed in time", ct), currency.Trim());
        rejection.PayReversedMinor = taken.Minor;
        rejection.PayTakenBackAt = now;
        await db.SaveChangesAsync(ct);
        await audit.AppendAsync(AuditEvent.BySystem("review.fraud_pay_taken_back", "clip", clipId.ToString(),
            $"no appeal within {ReviewRules.FraudAppealWindow.TotalDays:0} days",
            JsonSerializer.Serialize(new { reason = rejection.Reason.Code(), payReversedMinor = taken.Minor })), ct);
        await RejectionNotices.PayTakenBackAsync(db, notifications, clipId, rejection.Reason, taken, ct);
        await tx.CommitAsync(ct);
        return true;
    }
}

/// <summary>The scheduled run; the work is in <see cref="FraudAppealWindow"/>.</summary>
public sealed class FraudAppealWindowJob(FraudAppealWindow window, ILogger<FraudAppealWindowJob> logger) : IScheduledJob
{
    public const string Name = "reviews-fraud-appeal-window";

    public async Task RunAsync(DateTimeOffset scheduledFor, CancellationToken ct)
    {
        var settled = await window.RunAsync(ct);
        if (settled > 0)
        {
            logger.LogInformation("Took back the pay of {Count} clips rejected for fraud and not appealed in time", settled);
        }
    }
}
