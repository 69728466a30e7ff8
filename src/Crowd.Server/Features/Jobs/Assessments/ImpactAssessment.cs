using Crowd.Server.Features.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Jobs.Assessments;

public enum AssessmentStatus
{
    Waiting = 0,
    Approved = 1,
    SentBack = 2,
}

/// <summary>
/// One version of a job's impact assessment (PIPL arts. 55–56, GDPR art. 35): the requester's answers, the purposes they
/// were given for, and the admin's decision. Kept at least three years after the job closes (<see cref="KeepUntil"/>).
/// </summary>
public sealed class ImpactAssessment
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public int Version { get; set; }
    public AssessmentStatus Status { get; set; }
    /// <summary>The job's purposes when the assessment was submitted: an approval covers these and no others.</summary>
    public bool PurposeSpeechRecognition { get; set; }
    public bool PurposeVoiceCloning { get; set; }
    public string PurposeAndNecessity { get; set; } = "";
    public string DataCollected { get; set; } = "";
    public string RiskVoiceCloning { get; set; } = "";
    public string RiskReidentification { get; set; } = "";
    public string RiskMinors { get; set; } = "";
    /// <summary>Required when the job asks for voice cloning: cloned voices used to impersonate the speaker, deep fakes.</summary>
    public string RiskDeepSynthesis { get; set; } = "";
    public string Safeguards { get; set; } = "";
    public string Retention { get; set; } = "";
    public string Recipients { get; set; } = "";
    public Guid SubmittedByUserId { get; set; }
    public DateTimeOffset SubmittedAt { get; set; }
    public Guid? ReviewedByUserId { get; set; }
    public DateTimeOffset? ReviewedAt { get; set; }
    public string? ReviewReasons { get; set; }
    /// <summary>Three years after the job closed; null while it is open. The database refuses deleting the row before then.</summary>
    public DateTimeOffset? KeepUntil { get; set; }

    public AssessmentAnswers Answers => new(PurposeAndNecessity, DataCollected, RiskVoiceCloning, RiskReidentification, RiskMinors,
        RiskDeepSynthesis, Safeguards, Retention, Recipients);
}

/// <summary>The structured form a requester fills in: the same fields in the API, the page and the records of processing.</summary>
public sealed record AssessmentAnswers(
    string? PurposeAndNecessity = null, string? DataCollected = null, string? RiskVoiceCloning = null, string? RiskReidentification = null,
    string? RiskMinors = null, string? RiskDeepSynthesis = null, string? Safeguards = null, string? Retention = null, string? Recipients = null)
{
    public AssessmentAnswers Trimmed() => new(PurposeAndNecessity?.Trim(), DataCollected?.Trim(), RiskVoiceCloning?.Trim(),
        RiskReidentification?.Trim(), RiskMinors?.Trim(), RiskDeepSynthesis?.Trim(), Safeguards?.Trim(), Retention?.Trim(), Recipients?.Trim());
}

public sealed record AssessmentReviewRequest(bool? Approve, string? Reasons);

internal sealed class ImpactAssessmentConfiguration : IEntityTypeConfiguration<ImpactAssessment>
{
    public void Configure(EntityTypeBuilder<ImpactAssessment> e)
    {
        e.ToTable("impact_assessments", t => t.HasCheckConstraint("ck_impact_assessments_reviewed", $"(status = {(int)AssessmentStatus.Waiting}) = (reviewed_at IS NULL)"));
        foreach (var answer in new[]
                 {
                     nameof(ImpactAssessment.PurposeAndNecessity), nameof(ImpactAssessment.DataCollected), nameof(ImpactAssessment.RiskVoiceCloning),
                     nameof(ImpactAssessment.RiskReidentification), nameof(ImpactAssessment.RiskMinors), nameof(ImpactAssessment.RiskDeepSynthesis),
                     nameof(ImpactAssessment.Safeguards), nameof(ImpactAssessment.Retention), nameof(ImpactAssessment.Recipients),
                     nameof(ImpactAssessment.ReviewReasons),
                 })
        {
            e.Property(answer).HasMaxLength(AssessmentRules.MaxAnswerLength);
        }
        e.Ignore(a => a.Answers);
        e.HasIndex(a => new { a.JobId, a.Version }).IsUnique();
        e.HasIndex(a => a.Status);
        e.HasOne<Job>().WithMany().HasForeignKey(a => a.JobId).OnDelete(DeleteBehavior.Restrict);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(a => a.SubmittedByUserId).OnDelete(DeleteBehavior.Restrict);
    }
}
