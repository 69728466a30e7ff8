using Crowd.Server.Infrastructure.Money;

namespace Crowd.Server.Features.Recording.Streaming;

/// <summary>
/// ~100 ms of 16 kHz mono audio from the browser: <paramref name="Pcm"/> is PCM16 little-endian, raw bytes over
/// MessagePack (base64 in a string over the JSON protocol).
/// </summary>
public sealed record AudioChunk(int Seq, byte[]? Pcm, int SampleRate);

/// <summary>
/// Live quality of the last 100 ms, sent back for the chunk (<paramref name="Seq"/>) that completed it: the frame's own
/// measures, the take's running SNR so far, the meter's <paramref name="Level"/> (<see cref="Crowd.Audio.Quality.LiveLevels"/>
/// codes; only "good" is green) and the hints, which are the quality gate's issue codes.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record QualityFrame(Guid TakeId, int Seq, int Index, float RmsDbfs, float PeakDbfs, int ClippedSamples, bool Speech,
    float NoiseFloorDbfs, float SnrDb, string Level, string[] Hints);

[GenerateSerializer, Immutable]
public sealed record PromptView(Guid TaskId, int Ordinal, string Text);

/// <summary>
/// Where the contributor stands: the prompt in hand (if any), progress, time worked and money earned in this session.
/// <paramref name="Progress"/> is written in the contributor's language, with its plurals.
/// </summary>
public sealed record SessionView(
    Guid SessionId,
    string JobTitle,
    long ActiveMs,
    EarnedView Earned,
    int ClipsThisSession,
    int JobTakesAccepted,
    int JobTakesNeeded,
    string Progress,
    PromptView? Prompt,
    string Status,
    string? Message,
    Guid? ResumableTakeId,
    int NextSeq);

/// <summary>
/// Money as the recorder shows it: <paramref name="Text"/> is written by <see cref="Currencies.Format"/>. While recording,
/// the figure runs on between the server's answers, so the page also gets the minor units and the currency's
/// <paramref name="Digits"/> rather than a rule of its own for each currency.
/// </summary>
public sealed record EarnedView(long Minor, string Currency, int Digits, string Text)
{
    public static EarnedView Of(Money money) => new(money.Minor, money.Currency, Currencies.Exponent(money.Currency), Currencies.Format(money));
}

[GenerateSerializer, Immutable]
public sealed record TakeStarted(Guid TakeId, int SampleRate, int ChunkMs);

public sealed record VerdictReasonView(string Code, string Hint);

[GenerateSerializer, Immutable]
public sealed record TakeMetrics(double DurationSeconds, double RmsDbfs, double PeakDbfs, double SpeechLevelDbfs, double NoiseFloorDbfs,
    double SnrDb, double SpeechRatio, double ClippedRatio, double LeadingSilenceSeconds, double TrailingSilenceSeconds);

public sealed record TakeResult(Guid TakeId, bool Passed, VerdictReasonView[] Reasons, TakeMetrics Metrics);

/// <summary>What the browser actually applied to the microphone track (getSettings()), kept with each clip.</summary>
[GenerateSerializer, Immutable]
public sealed record BrowserSettings(
    bool? EchoCancellation,
    bool? NoiseSuppression,
    bool? AutoGainControl,
    int? TrackSampleRate,
    int? ChannelCount,
    int? ContextSampleRate,
    string? UserAgent);

public sealed record SubmitResult(Guid ClipId, SessionView Session);
