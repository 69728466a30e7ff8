using System.Globalization;
using System.Text.Json;
using Crowd.Server.Features.Audit;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Mail;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Reviews;

/// <summary>
/// A rejection on a fraud ground (not a live voice, a duplicate) tells the contributor they have
/// <see cref="ReviewRules.FraudAppealWindow"/> to appeal. When the window has passed without an appeal, the clip's pay
/// is taken back through the ledger, capped as an upheld appeal caps it, and the contributor is told. Non-fraud grounds
/// carry no window and never take pay back. Run periodically; each rejection is settled once, whatever the number of runs.
/// </summary>
public sealed class FraudAppealWindow(CrowdDb db, ReviewService reviews, AuditLog audit, ReviewNotices notices, TimeProvider clock)
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
        var currency = await db.Jobs.Where(j => j.Id == clip.JobId).Select(j => j.Currency).SingleAsync(ct);
        var taken = new Money(await reviews.ReversePayAsync(clip, now, "fraud rejection not appealed in time", ct), currency.Trim());
        rejection.PayReversedMinor = taken.Minor;
        rejection.PayTakenBackAt = now;
        await db.SaveChangesAsync(ct);
        await audit.AppendAsync(AuditEvent.BySystem("review.fraud_pay_taken_back", "clip", clipId.ToString(),
            $"no appeal within {ReviewRules.FraudAppealWindow.TotalDays:0} days",
            JsonSerializer.Serialize(new { reason = rejection.Reason.Code(), payReversedMinor = taken.Minor })), ct);
        await notices.PayTakenBackAsync(clip.ContributorId, clip.JobId, rejection.Reason, taken, ct);
        await tx.CommitAsync(ct);
        return true;
    }
}

/// <summary>
/// What the reviews feature tells contributors outside the page. Sent as mail through the outbox, inside the caller's
/// transaction; the one place to point at the platform's notifications when they exist.
/// </summary>
public sealed class ReviewNotices(CrowdDb db, Outbox outbox, IStringLocalizer<ReviewsText> text, IOptions<CrowdOptions> options)
{
    public async Task PayTakenBackAsync(Guid contributorId, Guid jobId, RejectionReason reason, Money taken, CancellationToken ct)
    {
        var contributor = await db.Users.AsNoTracking().Where(u => u.Id == contributorId).Select(u => new { u.Email, u.PreferredCulture }).SingleAsync(ct);
        var title = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => j.Title).SingleAsync(ct);
        if (string.IsNullOrWhiteSpace(contributor.Email))
        {
            return;
        }
        var before = CultureInfo.CurrentUICulture;
        CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo(contributor.PreferredCulture);
        try
        {
            var link = new Uri(options.Value.PublicUrl!, "/Reviews/Mine");
            await outbox.EnqueueAsync(contributor.Email, text["The pay for a rejected clip of \"{0}\" was taken back", title],
                string.Join("\n\n",
                    text["A clip you recorded for \"{0}\" was rejected as \"{1}\", and it was not appealed within {2} days.", title, text[reason.Label()],
                        (int)ReviewRules.FraudAppealWindow.TotalDays],
                    taken.Minor > 0
                        ? text["As the rejection said, the pay for that clip's time, {0}, has been taken back from your earnings not yet paid out.", Currencies.Format(taken)]
                        : text["Nothing was taken back: the pay for that clip's time had already been paid out or taken back."],
                    text["Your other pay is not affected. The rejection and its reason are here: {0}", link]),
                ct);
        }
        finally
        {
            CultureInfo.CurrentUICulture = before;
        }
    }
}
