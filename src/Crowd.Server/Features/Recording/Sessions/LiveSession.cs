using System.Buffers;
using Crowd.Audio.Analysis;
using Crowd.Audio.Quality;
using Crowd.Server.Features.Recording.Streaming;
using Crowd.Server.Features.Recording.Tasks;

namespace Crowd.Server.Features.Recording.Sessions;

public enum TakeState
{
    None,
    Recording,
    /// <summary>Analysed and passed: waiting for the contributor to submit it or record again.</summary>
    Passed,
    Submitting,
}

/// <summary>What a session needs to know about its job, read once when the session goes live.</summary>
public sealed record SessionJob(string Title, long HourlyRateMinor, string Currency, int PromptCount, int TakesPerPrompt, QualityThresholds Thresholds);

public sealed record HeldPrompt(TaskClaim Claim, string Text);

/// <summary>
/// The live half of a worker session, owned by the node that holds the contributor's connection. It outlives a
/// dropped connection (so the contributor can resume the take) until it has been idle past the cut-off.
/// Fields are guarded by <see cref="Gate"/>, except the take's audio, which only the running analysis touches.
/// </summary>
public sealed class LiveSession(WorkerSession row, SessionJob job, ActiveClock clock)
{
    public const int SampleRate = 16_000;

    public Guid Id { get; } = row.Id;
    public Guid JobId { get; } = row.JobId;
    public int JobVersion { get; } = row.JobVersion;
    public Guid ContributorId { get; } = row.ContributorId;
    public SessionJob Job { get; } = job;
    public object Gate { get; } = new();
    public ActiveClock Clock { get; } = clock;

    public string? ConnectionId { get; set; }
    public bool Closed { get; set; }
    public HeldPrompt? Prompt { get; set; }
    /// <summary>Prompts skipped in this session.</summary>
    public HashSet<Guid> Skipped { get; } = [];
    public int ClipsThisSession { get; set; } = row.Clips;

    public Guid? TakeId { get; private set; }
    public TakeState TakeState { get; private set; }
    public int ExpectedSeq { get; set; }
    public bool Streaming { get; set; }
    public CancellationTokenSource? StreamCancel { get; set; }
    public ClipReport? Report { get; private set; }
    public Verdict? Verdict { get; private set; }

    public SpeechAnalyzer Analyzer { get; } = new(SampleRate);
    public LiveHints Hints { get; } = new();
    public TakeBuffer Audio { get; } = new();

    public Guid StartTake()
    {
        DiscardTake();
        TakeId = Guid.CreateVersion7();
        TakeState = TakeState.Recording;
        ExpectedSeq = 0;
        Analyzer.Reset();
        Hints.Reset();
        return TakeId.Value;
    }

    public void Finish(ClipReport report, Verdict verdict)
    {
        Report = report;
        Verdict = verdict;
        if (verdict.Passed)
        {
            TakeState = TakeState.Passed;
        }
        else
        {
            DiscardTake(); // a failing take is explained, never kept
        }
    }

    public void MarkSubmitting() => TakeState = TakeState.Submitting;

    public void RestorePassed() => TakeState = TakeState.Passed;

    public void DiscardTake()
    {
        TakeId = null;
        TakeState = TakeState.None;
        ExpectedSeq = 0;
        Audio.Release();
    }
}

/// <summary>One take's PCM16 samples, in a pooled buffer that grows as the take does and goes back to the pool after.</summary>
public sealed class TakeBuffer
{
    private short[]? _samples;

    public int Length { get; private set; }

    public ReadOnlySpan<short> Samples => _samples.AsSpan(0, Length);

    public void Append(ReadOnlySpan<short> samples)
    {
        if (_samples is null || Length + samples.Length > _samples.Length)
        {
            var bigger = ArrayPool<short>.Shared.Rent(Math.Max(LiveSession.SampleRate * 8, (Length + samples.Length) * 2));
            if (_samples is not null)
            {
                _samples.AsSpan(0, Length).CopyTo(bigger);
                ArrayPool<short>.Shared.Return(_samples);
            }
            _samples = bigger;
        }
        samples.CopyTo(_samples.AsSpan(Length));
        Length += samples.Length;
    }

    public void Release()
    {
        if (_samples is not null)
        {
            ArrayPool<short>.Shared.Return(_samples);
            _samples = null;
        }
        Length = 0;
    }
}
