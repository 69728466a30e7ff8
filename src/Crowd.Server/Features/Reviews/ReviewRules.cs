using Crowd.Server.Infrastructure.Web;

namespace Crowd.Server.Features.Reviews;

/// <summary>The grounds a clip can be rejected on. The numbers are stored; the codes are the API's.</summary>
public enum RejectionReason
{
    Silence = 1,
    WrongPrompt = 2,
    Unintelligible = 3,
    NotLiveVoice = 4,
    Duplicate = 5,
    /// <summary>Other contributors voted the clip invalid; never chosen by a requester.</summary>
    PeerValidation = 6,
}

public static class RejectionReasons
{
    /// <summary>What a requester may choose, in the order the form shows them.</summary>
    public static readonly RejectionReason[] RequesterChoices =
        [RejectionReason.Silence, RejectionReason.WrongPrompt, RejectionReason.Unintelligible, RejectionReason.NotLiveVoice, RejectionReason.Duplicate];

    public static string Code(this RejectionReason reason) => reason switch
    {
        RejectionReason.Silence => "silence",
        RejectionReason.WrongPrompt => "wrong-prompt",
        RejectionReason.Unintelligible => "unintelligible",
        RejectionReason.NotLiveVoice => "not-live-voice",
        RejectionReason.Duplicate => "duplicate",
        _ => "peer-validation",
    };

    /// <summary>The English label, which is also the key of its translation.</summary>
    public static string Label(this RejectionReason reason) => reason switch
    {
        RejectionReason.Silence => "Silence or no speech",
        RejectionReason.WrongPrompt => "Wrong prompt read",
        RejectionReason.Unintelligible => "Unintelligible",
        RejectionReason.NotLiveVoice => "Not a live human voice",
        RejectionReason.Duplicate => "Duplicate of another take",
        _ => "Voted invalid by peer validation",
    };

    /// <summary>
    /// The explanation a reviewer starts from when they reject by a number key; they may change it before sending. The
    /// English text is also the key of its translation.
    /// </summary>
    public static string DefaultNote(this RejectionReason reason) => reason switch
    {
        RejectionReason.Silence => "The clip holds no speech, or only silence after the first words.",
        RejectionReason.WrongPrompt => "The words read are not the prompt's.",
        RejectionReason.Unintelligible => "The words cannot be made out.",
        RejectionReason.NotLiveVoice => "This does not sound like a live human voice: it sounds played back or synthetic.",
        _ => "This take repeats another take of the same prompt.",
    };

    /// <summary>Fraud grounds: unappealed within the window, or upheld after appeal, these take back the pay for the clip's time.</summary>
    public static bool IsFraud(this RejectionReason reason) => reason is RejectionReason.NotLiveVoice or RejectionReason.Duplicate;

    public static RejectionReason? FromCode(string? code) =>
        RequesterChoices.Cast<RejectionReason?>().FirstOrDefault(r => string.Equals(r!.Value.Code(), code?.Trim(), StringComparison.OrdinalIgnoreCase));
}

public enum PeerVerdict
{
    Pending,
    Valid,
    Invalid,
}

/// <summary>What reviews, appeals and votes must satisfy. Pure: no HTTP, no database.</summary>
public static class ReviewRules
{
    public const int MaxNoteLength = 2000;
    public const int MinVotes = 2;

    /// <summary>
    /// Common Voice's rule: valid with at least two up-votes and more up than down; invalid with at least two
    /// down-votes and more down than up; otherwise it waits for more votes.
    /// </summary>
    public static PeerVerdict Verdict(int up, int down) =>
        up >= MinVotes && up > down ? PeerVerdict.Valid
        : down >= MinVotes && down > up ? PeerVerdict.Invalid
        : PeerVerdict.Pending;

    /// <summary>How long a contributor has to appeal a rejection on a fraud ground before the clip's pay is taken back.</summary>
    public static readonly TimeSpan FraudAppealWindow = TimeSpan.FromDays(14);

    /// <summary>The end of the appeal window of a rejection made now: fraud grounds only; other grounds never take pay back.</summary>
    public static DateTimeOffset? AppealBy(RejectionReason reason, DateTimeOffset rejectedAt) =>
        reason.IsFraud() ? rejectedAt + FraudAppealWindow : null;

    /// <summary>Bounds a reviewer's metric filter must keep to; each field named in its error.</summary>
    public static List<FieldError> ValidateFilter(QueueFilter filter)
    {
        var errors = new List<FieldError>();
        if (filter.MinSnrDb is { } snr && (double.IsNaN(snr) || snr is < -20 or > 120))
        {
            errors.Add(new("minSnr", "The lowest signal-to-noise ratio must be between -20 and 120 dB."));
        }
        if (filter.MinSpeechPercent is { } speech && (double.IsNaN(speech) || speech is < 0 or > 100))
        {
            errors.Add(new("minSpeech", "The lowest share of speech must be between 0 and 100 %."));
        }
        foreach (var (field, seconds) in new[] { ("minSeconds", filter.MinSeconds), ("maxSeconds", filter.MaxSeconds) })
        {
            if (seconds is { } s && (double.IsNaN(s) || s is < 0 or > 3600))
            {
                errors.Add(new(field, "A clip length must be between 0 and 3600 seconds."));
            }
        }
        if (errors.Count == 0 && filter is { MinSeconds: { } from, MaxSeconds: { } to } && from > to)
        {
            errors.Add(new("maxSeconds", "The longest clip length must not be below the shortest."));
        }
        return errors;
    }

    public static List<FieldError> ValidateRejection(string? reasonCode, string? note, out RejectionReason reason)
    {
        var errors = new List<FieldError>();
        var parsed = RejectionReasons.FromCode(reasonCode);
        reason = parsed ?? default;
        if (parsed is null)
        {
            errors.Add(new("reason", "Choose the reason for the rejection: silence or no speech, wrong prompt read, unintelligible, not a live human voice, or a duplicate of another take."));
        }
        errors.AddRange(ValidateNote("note", note, "Explain the rejection in a few words, so the contributor can understand it."));
        return errors;
    }

    public static List<FieldError> ValidateAppeal(string? note) =>
        ValidateNote("note", note, "Say why the rejection is wrong: the note goes to an admin.").ToList();

    public static List<FieldError> ValidateDecision(string? outcome, string? note, out AppealOutcome decided)
    {
        var errors = new List<FieldError>();
        decided = outcome?.Trim().ToLowerInvariant() switch
        {
            "uphold" => AppealOutcome.Upheld,
            "reverse" => AppealOutcome.Reversed,
            _ => default,
        };
        if (decided == default)
        {
            errors.Add(new("outcome", "Choose to uphold or reverse the rejection."));
        }
        errors.AddRange(ValidateNote("note", note, "Give the reason for the decision; the contributor will read it."));
        return errors;
    }

    public const int MaxReferenceLength = 200;

    /// <summary>What an admin may state as the purpose of listening to a clip: there is no other reason for them to.</summary>
    public static readonly AudioPurpose[] AdminPurposes = [AudioPurpose.Appeal, AudioPurpose.Dispute, AudioPurpose.LegalRequest];

    public static string PurposeCode(AudioPurpose purpose) => purpose switch
    {
        AudioPurpose.Review => "review",
        AudioPurpose.Appeal => "appeal",
        AudioPurpose.PeerValidation => "peer-validation",
        AudioPurpose.Speaker => "speaker",
        AudioPurpose.Dispute => "dispute",
        _ => "legal-request",
    };

    /// <summary>
    /// An admin's stated purpose must be on the list and true: "appeal" only when the clip's rejection was appealed;
    /// "dispute" and "legal-request" name their case, so that the audit log says which one the read served.
    /// </summary>
    public static List<FieldError> ValidateAdminRead(string? purpose, string? reference, bool clipWasAppealed, out AudioPurpose chosen)
    {
        var code = purpose?.Trim();
        var stated = AdminPurposes.Cast<AudioPurpose?>().FirstOrDefault(p => PurposeCode(p!.Value) == code);
        chosen = stated ?? default;
        if (stated is null)
        {
            return [new("purpose", "State why you are listening: purpose=appeal, dispute or legal-request. The purpose is written to the audit log.")];
        }
        if (stated == AudioPurpose.Appeal)
        {
            return clipWasAppealed
                ? []
                : [new("purpose", "This clip's rejection was not appealed, so listening to it is not for an appeal. State the purpose that is true: dispute or legal-request, with its reference.")];
        }
        var trimmed = reference?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxReferenceLength)
        {
            return [new("reference", "Give the reference of the dispute or legal request (a case or ticket number, at most {0} characters); it is written to the audit log.", MaxReferenceLength)];
        }
        return TextRules.Check("reference", trimmed, TextKind.Line) is { } error ? [error] : [];
    }

    private static IEnumerable<FieldError> ValidateNote(string field, string? note, string whenMissing)
    {
        if (string.IsNullOrWhiteSpace(note))
        {
            yield return new(field, whenMissing);
        }
        else if (note.Trim().Length > MaxNoteLength)
        {
            yield return new(field, "Keep the note under {0} characters.", MaxNoteLength);
        }
        else if (TextRules.Check(field, note, TextKind.Prose) is { } error)
        {
            yield return error;
        }
    }
}
