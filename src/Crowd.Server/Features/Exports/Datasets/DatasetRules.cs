using Crowd.Server.Features.Recording.Clips;

namespace Crowd.Server.Features.Exports.Datasets;

/// <summary>What the buyer declares it will do with a dataset. Each use needs its own purpose in the job and the consent.</summary>
public enum DatasetUse
{
    SpeechRecognition = 1,
    /// <summary>Voice cloning / speech synthesis: a separate opt-in of each contributor, never implied.</summary>
    VoiceCloning = 2,
}

/// <summary>
/// The facts about one clip that decide whether a dataset may carry it. The purposes are those of the job version the
/// clip's consent was given to, not the job's current ones: a later version cannot widen what a speaker agreed to.
/// </summary>
public sealed record ClipConsentFacts(
    ClipReview Review, bool ClipWithdrawn, bool AudioDestroyed, bool ConsentWithdrawn, bool ConsentVoiceCloning,
    bool ConsentedVersionSpeechRecognition, bool ConsentedVersionVoiceCloning);

/// <summary>
/// The one rule for what a dataset may contain. Pure; <see cref="DatasetExporter"/> runs the same rule as one query
/// (ExportableClips), and the tests hold the two to each other.
/// </summary>
public static class DatasetRules
{
    public const string SpeechRecognitionName = "speech-recognition";
    public const string VoiceCloningName = "voice-cloning";
    public const string Licence = "Crowd dataset licence v1: use limited to the declared purpose; no resale; delete a clip when told its consent was withdrawn.";

    public static bool TryParseUse(string? text, out DatasetUse use)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or SpeechRecognitionName:
                use = DatasetUse.SpeechRecognition;
                return true;
            case VoiceCloningName or "speech-synthesis" or "tts":
                use = DatasetUse.VoiceCloning;
                return true;
            default:
                use = default;
                return false;
        }
    }

    public static string Name(DatasetUse use) => use == DatasetUse.VoiceCloning ? VoiceCloningName : SpeechRecognitionName;

    /// <summary>The purposes a clip's consent covers, as the manifest lists them.</summary>
    public static string[] Purposes(bool jobSpeechRecognition, bool jobVoiceCloning, bool consentVoiceCloning) =>
        [.. jobSpeechRecognition ? [SpeechRecognitionName] : Array.Empty<string>(),
            .. jobVoiceCloning && consentVoiceCloning ? [VoiceCloningName] : Array.Empty<string>()];

    public static bool Covers(DatasetUse use, bool jobSpeechRecognition, bool jobVoiceCloning, bool consentVoiceCloning) => use switch
    {
        DatasetUse.SpeechRecognition => jobSpeechRecognition,
        DatasetUse.VoiceCloning => jobVoiceCloning && consentVoiceCloning,
        _ => false,
    };

    /// <summary>Accepted, not withdrawn, audio still there, consent live, and the declared use among the consented purposes.</summary>
    public static bool IsExportable(ClipConsentFacts clip, DatasetUse use) => Exclusion(clip, use) == ClipExclusion.None;

    /// <summary>
    /// Why a clip is not in a dataset for this use, the first reason that applies: its speaker took it (or the consent) back
    /// or its audio is gone; it is not accepted; its consent does not cover the use.
    /// </summary>
    public static ClipExclusion Exclusion(ClipConsentFacts clip, DatasetUse use) =>
        clip.ClipWithdrawn || clip.AudioDestroyed || clip.ConsentWithdrawn ? ClipExclusion.Withdrawn
        : clip.Review != ClipReview.Accepted ? ClipExclusion.NotAccepted
        : !Covers(use, clip.ConsentedVersionSpeechRecognition, clip.ConsentedVersionVoiceCloning, clip.ConsentVoiceCloning) ? ClipExclusion.UseNotCovered
        : ClipExclusion.None;
}

public enum ClipExclusion
{
    None,
    Withdrawn,
    NotAccepted,
    UseNotCovered,
}
