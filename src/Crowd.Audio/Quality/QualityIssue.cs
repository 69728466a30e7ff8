namespace Crowd.Audio.Quality;

/// <summary>Why a take failed. <see cref="QualityIssues.Code"/> is the stable key clients and translations use.</summary>
public enum QualityIssue
{
    TooShort,
    TooLong,
    TooQuiet,
    Clipping,
    TooNoisy,
    NoSpeech,
    LeadingSilence,
    TrailingSilence,
}

public static class QualityIssues
{
    public static string Code(this QualityIssue issue) => issue switch
    {
        QualityIssue.TooShort => "too_short",
        QualityIssue.TooLong => "too_long",
        QualityIssue.TooQuiet => "too_quiet",
        QualityIssue.Clipping => "clipping",
        QualityIssue.TooNoisy => "too_noisy",
        QualityIssue.NoSpeech => "no_speech",
        QualityIssue.LeadingSilence => "leading_silence",
        QualityIssue.TrailingSilence => "trailing_silence",
        _ => throw new ArgumentOutOfRangeException(nameof(issue), issue, null),
    };

    /// <summary>The English hint; other languages are looked up by <see cref="Code"/>.</summary>
    public static string Hint(this QualityIssue issue) => issue switch
    {
        QualityIssue.TooShort => "The recording is too short — read the whole prompt before stopping",
        QualityIssue.TooLong => "The recording is too long — stop soon after you finish the prompt",
        QualityIssue.TooQuiet => "Your voice is too quiet — speak up or move closer to the microphone",
        QualityIssue.Clipping => "Your voice is clipping — move back from the microphone",
        QualityIssue.TooNoisy => "Too much background noise — move somewhere quieter",
        QualityIssue.NoSpeech => "We could not hear any speech — check that the right microphone is on",
        QualityIssue.LeadingSilence => "There is a long pause before you start — begin speaking sooner",
        QualityIssue.TrailingSilence => "There is a long pause after you finish — stop the recording sooner",
        _ => throw new ArgumentOutOfRangeException(nameof(issue), issue, null),
    };
}
