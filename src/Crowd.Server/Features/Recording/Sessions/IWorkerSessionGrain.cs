using Crowd.Server.Features.Recording.Streaming;
using Orleans.Concurrency;

namespace Crowd.Server.Features.Recording.Sessions;

/// <summary>
/// A contributor's working session on a job. Every call that acts for a browser names its SignalR connection: only the
/// connection that joined last may act, so a second tab is refused until it takes the session over.
/// </summary>
public interface IWorkerSessionGrain : IGrainWithGuidKey
{
    Task<SessionState> Join(string connectionId, ISessionObserver observer, bool takeOver);

    /// <summary>The connection went away: the clock stops now; the take stays resumable until the session closes.</summary>
    Task Detach(string connectionId);

    /// <summary>Gives back the prompt in hand (skipping it for the rest of the session when <paramref name="skip"/>) and claims the next.</summary>
    Task<SessionState> NextPrompt(string connectionId, bool skip);

    Task<TakeStarted> StartTake(string connectionId);

    Task BeginStream(string connectionId, Guid takeId);

    /// <summary>
    /// One chunk of the take's audio: checked, analysed, and answered with its live quality frames. It runs between the
    /// awaits of the session's other calls (a checkpoint waiting on the database, a claim): it never awaits anything
    /// itself, and each of those calls settles what it reads of the take before its first await. A stream on the session's
    /// own node hands its chunks to the activation without this call (<see cref="LocalSessions"/>); the checks are the same.
    /// </summary>
    [AlwaysInterleave]
    ValueTask<ChunkOutcome> Append(string connectionId, Guid takeId, int seq, [Immutable] byte[]? pcm, int sampleRate);

    /// <summary>Ends the stream: a completed take gets its verdict, a failed one is dropped, a lost connection leaves it resumable.</summary>
    Task<TakeVerdict?> EndStream(string connectionId, Guid takeId, StreamEnd how);

    /// <summary>Drops the current take (a re-record); with <paramref name="dropPrompt"/> the prompt too (terms changed).</summary>
    Task Discard(string connectionId, bool dropPrompt);

    /// <summary>Work without audio reaching the server: listening back, the microphone check, reading the prompt again.</summary>
    Task<SessionState> Ping(string connectionId, string activity);

    Task<SubmitOutcome> Submit(string connectionId, Guid takeId, BrowserSettings? settings);

    Task Leave(string connectionId);

    /// <summary>Ends the session whoever holds it (terms changed, or the contributor left): time written and paid, prompt given back.</summary>
    Task Close();

    /// <summary>
    /// Writes the active time and accrues its pay now, renews the claim of a contributor at work and ends a session nobody
    /// came back to within the idle cut-off (the grain's timer does this every CheckpointSeconds). Returns the time written.
    /// </summary>
    Task<long> Checkpoint();

    /// <summary>Whether a browser connection holds the session right now.</summary>
    Task<bool> Held();
}

/// <summary>The browser side of a session: told when another tab took the session over.</summary>
public interface ISessionObserver : IGrainObserver
{
    Task Moved(string reason);
}

/// <summary>The session as the hub shows it; texts are English keys the hub translates.</summary>
[GenerateSerializer, Immutable]
public sealed record SessionState(
    Guid SessionId,
    Guid JobId,
    int JobVersion,
    string JobTitle,
    long ActiveMs,
    long EarnedMinor,
    string Currency,
    int ClipsThisSession,
    int JobTakesAccepted,
    int JobTakesNeeded,
    PromptView? Prompt,
    string Status,
    string? Message,
    Guid? ResumableTakeId,
    int NextSeq);

[GenerateSerializer]
public enum StreamEnd
{
    Completed,
    Failed,
    ConnectionLost,
}

/// <summary>What one chunk produced: its live frames, or the error that ended the take (one of <see cref="RecordingErrors"/>).</summary>
[GenerateSerializer, Immutable]
public readonly record struct ChunkOutcome(QualityFrame[] Frames, string? Error = null, string[]? Arguments = null);

[GenerateSerializer, Immutable]
public sealed record VerdictReason(string Code, string Hint);

[GenerateSerializer, Immutable]
public sealed record TakeVerdict(Guid TakeId, bool Passed, VerdictReason[] Reasons, TakeMetrics Metrics);

[GenerateSerializer, Immutable]
public sealed record SubmitOutcome(Guid ClipId, SessionState Session);
