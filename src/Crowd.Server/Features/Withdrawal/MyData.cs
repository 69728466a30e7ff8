using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Reviews;
using Crowd.Server.Features.Retention;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Withdrawal;

public enum ClipStatus
{
    /// <summary>Stored, readable by the buyer under the consent.</summary>
    Kept,
    /// <summary>Withdrawn by the contributor; its audio is destroyed.</summary>
    Withdrawn,
    /// <summary>Destroyed when its retention ended.</summary>
    Destroyed,
}

public sealed record MyClip(Guid Id, string Prompt, int DurationMs, DateTimeOffset RecordedAt, ClipStatus Status,
    DateTimeOffset? AudioDestroyedAt, DateTimeOffset? DestroyAfter, ClipReview Review = ClipReview.Waiting, RejectionReason? Rejection = null);

public sealed record MyConsent(Guid Id, int JobVersion, DateTimeOffset GivenAt, DateTimeOffset? WithdrawnAt, bool VoiceCloning);

/// <summary>Everything one contributor gave one job, and what they earned on it (theirs to keep, withdrawn or not).</summary>
public sealed record MyJob(Guid JobId, string Title, string Buyer, int RetentionDays, IReadOnlyList<MyConsent> Consents,
    IReadOnlyList<MyClip> Clips, Money? Earned)
{
    public bool ConsentLive => Consents.Any(c => c.WithdrawnAt is null);
    public bool HasClipsToWithdraw => Clips.Any(c => c.Status == ClipStatus.Kept);
}

public static class MyData
{
    public static async Task<IReadOnlyList<MyJob>> ForContributorAsync(CrowdDb db, Guid contributorId, CancellationToken ct)
    {
        var consents = await db.Consents.AsNoTracking().Where(c => c.ContributorId == contributorId).OrderBy(c => c.GivenAt).ToListAsync(ct);
        var clips = await db.Clips.AsNoTracking().Where(c => c.ContributorId == contributorId)
            .Join(db.Prompts, c => c.PromptId, p => p.Id, (c, p) => new
            {
                c.Id, c.JobId, Prompt = p.Text, c.DurationMs, c.CreatedAt, c.WithdrawnAt, c.AudioDestroyedAt, c.ReviewStatus,
                Rejection = db.Set<ClipRejection>().Where(r => r.ClipId == c.Id).Select(r => (RejectionReason?)r.Reason).FirstOrDefault(),
            })
            .OrderBy(c => c.CreatedAt).ToListAsync(ct);
        var jobIds = consents.Select(c => c.JobId).Concat(clips.Select(c => c.JobId)).Distinct().ToList();
        var jobs = await db.Jobs.AsNoTracking().Where(j => jobIds.Contains(j.Id))
            .Select(j => new { j.Id, j.Terms.Title, j.Terms.BuyerName, j.Terms.RetentionDays, j.CreatedAt }).ToListAsync(ct);
        var earned = (await EarningsReport.ForContributorAsync(db, contributorId, ct)).Jobs;
        var lastInteraction = await RetentionRule.LastInteractionAsync(db, contributorId, ct);

        return jobs.OrderByDescending(j => j.CreatedAt).Select(j => new MyJob(j.Id, j.Title, j.BuyerName, j.RetentionDays,
                consents.Where(c => c.JobId == j.Id).Select(c => new MyConsent(c.Id, c.JobVersion, c.GivenAt, c.WithdrawnAt, c.VoiceCloning)).ToList(),
                clips.Where(c => c.JobId == j.Id).Select(c => new MyClip(c.Id, c.Prompt, c.DurationMs, c.CreatedAt,
                    c.WithdrawnAt is not null ? ClipStatus.Withdrawn : c.AudioDestroyedAt is not null ? ClipStatus.Destroyed : ClipStatus.Kept,
                    c.AudioDestroyedAt,
                    c.AudioDestroyedAt is null ? RetentionRule.DestroyAfter(c.CreatedAt, j.RetentionDays, lastInteraction).At : null,
                    c.ReviewStatus, c.ReviewStatus == ClipReview.Rejected ? c.Rejection : null)).ToList(),
                earned.FirstOrDefault(e => e.JobId == j.Id)?.Accrued))
            .ToList();
    }
}
