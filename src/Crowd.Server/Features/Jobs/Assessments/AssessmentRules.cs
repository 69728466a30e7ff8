using Crowd.Server.Infrastructure.Web;

namespace Crowd.Server.Features.Jobs.Assessments;

/// <summary>
/// What an impact assessment must answer, what a review must say, and whether a job may go live under it. Pure: the
/// publish rule calls <see cref="PublishRefusal"/> on every path that publishes terms.
/// </summary>
public static class AssessmentRules
{
    public const int MaxAnswerLength = 4_000;

    /// <summary>PIPL art. 56: assessments are kept at least three years; counted from the job's close.</summary>
    public const int KeptYearsAfterClose = 3;

    public const string Field = "impactAssessment";

    public static DateTimeOffset KeepUntil(DateTimeOffset closedAt) => closedAt.AddYears(KeptYearsAfterClose);

    public static List<FieldError> Validate(AssessmentAnswers a, bool voiceCloning)
    {
        var errors = new List<FieldError>();
        Required(errors, "purposeAndNecessity", a.PurposeAndNecessity, "Say what the recordings are for and why voice data is necessary for it.");
        Required(errors, "dataCollected", a.DataCollected, "List the data collected: the recordings and anything recorded about the speakers.");
        Required(errors, "riskVoiceCloning", a.RiskVoiceCloning, "Assess the risk that the recordings are used to clone a speaker's voice.");
        Required(errors, "riskReidentification", a.RiskReidentification, "Assess the risk that a speaker is identified from the recordings or the metadata.");
        Required(errors, "riskMinors", a.RiskMinors, "Assess the risks for speakers under 18 and how guardian consent is handled.");
        if (voiceCloning)
        {
            Required(errors, "riskDeepSynthesis", a.RiskDeepSynthesis,
                "This job asks to use recordings for voice cloning: address the deep-synthesis risks (a cloned voice used to impersonate the speaker, deep fakes) and how they are prevented.");
        }
        else
        {
            Optional(errors, "riskDeepSynthesis", a.RiskDeepSynthesis);
        }
        Required(errors, "safeguards", a.Safeguards, "Describe the safeguards that reduce these risks.");
        Required(errors, "retention", a.Retention, "Say how long the recordings are kept and how they are destroyed.");
        Required(errors, "recipients", a.Recipients, "Name who receives the recordings.");
        return errors;
    }

    public static List<FieldError> ValidateReview(AssessmentReviewRequest review)
    {
        if (review.Approve is null)
        {
            return [new("approve", "Choose whether to approve the assessment or send it back.")];
        }
        if (review.Approve == false && string.IsNullOrWhiteSpace(review.Reasons))
        {
            return [new("reasons", "Say what must change, so that the requester can revise the assessment.")];
        }
        return review.Reasons?.Length > MaxAnswerLength
            ? [new("reasons", "Keep this to {0} characters or fewer (it has {1}).", MaxAnswerLength, review.Reasons.Length)]
            : [];
    }

    /// <summary>Why terms with these purposes cannot be published under the job's latest assessment; null when they can.</summary>
    public static FieldError? PublishRefusal(ImpactAssessment? latest, bool speechRecognition, bool voiceCloning)
    {
        if (latest is null)
        {
            return new(Field, "Publishing needs an approved impact assessment. Missing: the assessment itself (purpose and necessity, data collected, risks, safeguards, retention, recipients). Submit it on the job's assessment page.");
        }
        switch (latest.Status)
        {
            case AssessmentStatus.Waiting:
                return new(Field, "Publishing needs an approved impact assessment. Missing: an admin's approval of version {0}, which is waiting for review.", latest.Version);
            case AssessmentStatus.SentBack:
                return new(Field, "Publishing needs an approved impact assessment. Missing: a revision of version {0}, which was sent back: {1}", latest.Version,
                    latest.ReviewReasons ?? "");
        }
        if ((speechRecognition && !latest.PurposeSpeechRecognition) || (voiceCloning && !latest.PurposeVoiceCloning))
        {
            return new(Field, "Publishing needs an approved impact assessment. Missing: an assessment of this job's current purposes; version {0} was approved for others. Submit a new version.",
                latest.Version);
        }
        if (voiceCloning && string.IsNullOrWhiteSpace(latest.RiskDeepSynthesis))
        {
            return new("riskDeepSynthesis", "Publishing needs an approved impact assessment. Missing: the deep-synthesis risks of voice cloning, which version {0} does not address.",
                latest.Version);
        }
        return null;
    }

    private static void Required(List<FieldError> errors, string field, string? value, string missing)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(new(field, missing));
        }
        else
        {
            Optional(errors, field, value);
        }
    }

    private static void Optional(List<FieldError> errors, string field, string? value)
    {
        if (value?.Length > MaxAnswerLength)
        {
            errors.Add(new(field, "Keep this to {0} characters or fewer (it has {1}).", MaxAnswerLength, value.Length));
        }
    }
}
