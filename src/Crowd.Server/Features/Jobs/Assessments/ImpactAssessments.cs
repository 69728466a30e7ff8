using System.Text.Json;
using Crowd.Server.Features.Audit;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Jobs.Assessments;

public enum AssessmentOutcomeKind
{
    Ok,
    NotFound,
    Invalid,
    JobClosed,
    AlreadyReviewed,
}

public sealed record AssessmentOutcome(AssessmentOutcomeKind Kind, ImpactAssessment? Assessment = null, IReadOnlyList<FieldError>? Errors = null);

/// <summary>Submits, reviews and keeps impact assessments; every step is in the audit log.</summary>
public sealed class ImpactAssessments(CrowdDb db, AuditLog audit, TimeProvider clock)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary>The newest version of a job's assessment, whatever its state: the one publishing is decided by.</summary>
    public static Task<ImpactAssessment?> LatestAsync(CrowdDb db, Guid jobId, CancellationToken ct) =>
        db.Set<ImpactAssessment>().AsNoTracking().Where(a => a.JobId == jobId).OrderByDescending(a => a.Version).FirstOrDefaultAsync(ct);

    public async Task<List<ImpactAssessment>> HistoryAsync(Guid organisationId, Guid jobId, CancellationToken ct) =>
        await db.Set<ImpactAssessment>().AsNoTracking()
            .Where(a => a.JobId == jobId && db.Jobs.Any(j => j.Id == jobId && j.OrganisationId == organisationId))
            .OrderByDescending(a => a.Version).ToListAsync(ct);

    /// <summary>A new version, waiting for review. It covers the job's purposes as they are now.</summary>
    public async Task<AssessmentOutcome> SubmitAsync(Guid organisationId, Guid userId, Guid jobId, AssessmentAnswers answers, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId && j.OrganisationId == organisationId, ct);
        if (job is null)
        {
            return new(AssessmentOutcomeKind.NotFound);
        }
        if (job.Status == JobStatus.Closed)
        {
            return new(AssessmentOutcomeKind.JobClosed);
        }
        var a = answers.Trimmed();
        var errors = AssessmentRules.Validate(a, job.Terms.PurposeVoiceCloning);
        if (errors.Count > 0)
        {
            return new(AssessmentOutcomeKind.Invalid, Errors: errors);
        }
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // One version number per submission, even when two arrive at once.
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM jobs WHERE id = {jobId} FOR UPDATE", ct);
        var version = 1 + (await db.Set<ImpactAssessment>().Where(x => x.JobId == jobId).MaxAsync(x => (int?)x.Version, ct) ?? 0);
        var assessment = new ImpactAssessment
        {
            Id = Guid.CreateVersion7(),
            JobId = jobId,
            Version = version,
            Status = AssessmentStatus.Waiting,
            PurposeSpeechRecognition = job.Terms.PurposeSpeechRecognition,
            PurposeVoiceCloning = job.Terms.PurposeVoiceCloning,
            PurposeAndNecessity = a.PurposeAndNecessity!,
            DataCollected = a.DataCollected!,
            RiskVoiceCloning = a.RiskVoiceCloning!,
            RiskReidentification = a.RiskReidentification!,
            RiskMinors = a.RiskMinors!,
            RiskDeepSynthesis = a.RiskDeepSynthesis ?? "",
            Safeguards = a.Safeguards!,
            Retention = a.Retention!,
            Recipients = a.Recipients!,
            SubmittedByUserId = userId,
            SubmittedAt = clock.GetUtcNow(),
        };
        db.Add(assessment);
        await db.SaveChangesAsync(ct);
        await audit.AppendAsync(new AuditEvent("user", userId, "impact_assessment.submitted", "impact_assessment", assessment.Id.ToString(), "",
            JsonSerializer.Serialize(new { jobId, version }, s_json)), ct);
        await tx.CommitAsync(ct);
        db.Entry(assessment).State = EntityState.Detached;
        return new(AssessmentOutcomeKind.Ok, assessment);
    }

    public async Task<AssessmentOutcome> ReviewAsync(Guid adminId, Guid assessmentId, AssessmentReviewRequest review, CancellationToken ct)
    {
        var errors = AssessmentRules.ValidateReview(review);
        if (errors.Count > 0)
        {
            return new(AssessmentOutcomeKind.Invalid, Errors: errors);
        }
        var approve = review.Approve!.Value;
        var now = clock.GetUtcNow();
        var reasons = string.IsNullOrWhiteSpace(review.Reasons) ? null : review.Reasons.Trim();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var updated = await db.Set<ImpactAssessment>().Where(a => a.Id == assessmentId && a.Status == AssessmentStatus.Waiting)
            .ExecuteUpdateAsync(s => s
                .SetProperty(a => a.Status, approve ? AssessmentStatus.Approved : AssessmentStatus.SentBack)
                .SetProperty(a => a.ReviewedByUserId, adminId)
                .SetProperty(a => a.ReviewedAt, now)
                .SetProperty(a => a.ReviewReasons, reasons), ct);
        var assessment = await db.Set<ImpactAssessment>().AsNoTracking().SingleOrDefaultAsync(a => a.Id == assessmentId, ct);
        if (assessment is null)
        {
            return new(AssessmentOutcomeKind.NotFound);
        }
        if (updated == 0)
        {
            return new(AssessmentOutcomeKind.AlreadyReviewed, assessment);
        }
        await audit.AppendAsync(new AuditEvent("user", adminId, approve ? "impact_assessment.approved" : "impact_assessment.sent_back",
            "impact_assessment", assessmentId.ToString(), reasons ?? "",
            JsonSerializer.Serialize(new { jobId = assessment.JobId, version = assessment.Version }, s_json)), ct);
        await tx.CommitAsync(ct);
        return new(AssessmentOutcomeKind.Ok, assessment);
    }

    public Task<List<ImpactAssessment>> WaitingAsync(CancellationToken ct) =>
        db.Set<ImpactAssessment>().AsNoTracking().Where(a => a.Status == AssessmentStatus.Waiting).OrderBy(a => a.SubmittedAt).Take(200).ToListAsync(ct);

    /// <summary>Once a job closes, its assessments are kept three more years, past any retention of the audio.</summary>
    public static Task KeepAfterCloseAsync(CrowdDb db, Guid jobId, DateTimeOffset closedAt, CancellationToken ct)
    {
        var keepUntil = AssessmentRules.KeepUntil(closedAt);
        return db.Set<ImpactAssessment>().Where(a => a.JobId == jobId && a.KeepUntil == null)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.KeepUntil, keepUntil), ct);
    }
}
