using System.Collections.Frozen;

namespace Crowd.Server.Features.Recording.Streaming;

/// <summary>
/// Every error the recorder can show, in English (the translation key), each with a stable code. The hub sends
/// "code: translated text"; the browser switches on the code and shows the text.
/// </summary>
public static class RecordingErrors
{
    public const string NotJoined = "Join a job before recording.";
    public const string JobNotOpen = "This job is not open for recording.";
    public const string NeedsConsent = "Give your consent to this job's terms before recording.";
    public const string OpenElsewhere = "This session is already open in another tab or window. Close it there, or take it over here.";
    public const string SessionMoved = "This session was taken over by another tab or window.";
    public const string SessionEnded = "This session has ended. Open the job again to start a new one.";
    public const string SessionInterrupted = "The server holding your session stopped, and the take in progress was lost with it. Your time is kept; record the take again.";
    public const string NoPrompt = "Take a prompt before recording.";
    public const string OneStream = "A take is already being recorded in this session.";
    public const string UnknownTake = "This take is no longer in progress. Start the take again.";
    public const string NotPcm = "The audio is not 16-bit PCM. Reload the page and try again.";
    public const string WrongRate = "The audio must be 16000 Hz mono; this chunk said {0} Hz.";
    public const string TooBig = "An audio chunk was larger than {0} samples.";
    public const string TooFast = "Audio arrived faster than real time. The take was stopped; record it again.";
    public const string MissingChunk = "Audio chunk {0} went missing (chunk {1} arrived). The take was stopped; record it again.";
    public const string TakeTooLong = "The take passed {0} seconds and was stopped. Record it again, a little shorter.";
    public const string StreamIdle = "No audio arrived for {0} seconds, so the take was stopped. Record it again.";
    public const string ServerBehind = "The server could not keep up with the audio. The take was stopped; record it again.";
    public const string NothingToSubmit = "There is no passing take to submit. Record the prompt first.";
    public const string ClaimLost = "This prompt was given to someone else while you were away. Your time is kept; take the next prompt.";
    public const string ConsentWithdrawn = "Your consent to this job was withdrawn, so this take was not kept. Your time is kept.";
    public const string SpeakerCap = "You have recorded as many takes for this job as one speaker may. Thank you!";

    private static readonly FrozenDictionary<string, string> s_codes = new Dictionary<string, string>
    {
        [NotJoined] = "not_joined",
        [JobNotOpen] = "job_not_open",
        [NeedsConsent] = "needs_consent",
        [OpenElsewhere] = "open_elsewhere",
        [SessionMoved] = "session_moved",
        [SessionEnded] = "session_ended",
        [SessionInterrupted] = "session_interrupted",
        [NoPrompt] = "no_prompt",
        [OneStream] = "one_stream",
        [UnknownTake] = "unknown_take",
        [NotPcm] = "not_pcm",
        [WrongRate] = "wrong_rate",
        [TooBig] = "chunk_too_big",
        [TooFast] = "too_fast",
        [MissingChunk] = "missing_chunk",
        [TakeTooLong] = "take_too_long",
        [StreamIdle] = "stream_idle",
        [ServerBehind] = "server_behind",
        [NothingToSubmit] = "nothing_to_submit",
        [ClaimLost] = "claim_lost",
        [ConsentWithdrawn] = "consent_withdrawn",
        [SpeakerCap] = "speaker_cap",
    }.ToFrozenDictionary();

    /// <summary>The stable code of an error above (what the browser switches on).</summary>
    public static string CodeOf(string error) => s_codes[error];
}

/// <summary>A refusal from a session or task grain: one of <see cref="RecordingErrors"/> and its arguments, translated by the hub.</summary>
[GenerateSerializer]
public sealed class RecordingRefusedException : Exception
{
    public RecordingRefusedException(string error, params string[] arguments)
        : base(error)
    {
        Error = error;
        Arguments = arguments;
    }

    public RecordingRefusedException()
    {
    }

    public RecordingRefusedException(string message, Exception inner)
        : base(message, inner)
    {
    }

    [Id(0)]
    public string Error { get; init; } = RecordingErrors.NotJoined;

    [Id(1)]
    public string[] Arguments { get; init; } = [];
}
