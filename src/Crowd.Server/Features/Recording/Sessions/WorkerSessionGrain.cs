using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using Crowd.Audio.Analysis;
using Crowd.Audio.Quality;
using Crowd.Audio.Wav;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Streaming;
using Crowd.Server.Features.Recording.Takes;
using Crowd.Server.Features.Recording.Tasks;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Crowd.Server.Features.Recording.Sessions;

public enum TakeState
{
    None,
    Recording,
    /// <summary>Analysed and passed: waiting for the contributor to submit it or record again.</summary>
    Passed,
    Submitting,
}

/// <summary>
/// The live half of a worker session: analyzer, take buffer, active-time clock, held prompt, connection and checkpoint
/// timer, owned by one activation whose calls run one at a time, so nothing here needs a lock. It is placed on the node
/// that holds the contributor's connection. Its durable half is the worker_sessions row: written every
/// CheckpointSeconds with the pay for that time, read when the grain activates again (on any node) after a crash. A take
/// in progress lives only here and dies with its node; the contributor is told and records it again. Audio chunks
/// interleave with the calls that wait on the database (<see cref="IWorkerSessionGrain.Append"/>), so a checkpoint never
/// holds up the live frames.
/// </summary>
[Orleans.Placement.PreferLocalPlacement]
public sealed class WorkerSessionGrain(
    IServiceScopeFactory scopes,
    ClipVault vault,
    SessionCheckpoints checkpoints,
    TimeProvider clock,
    IOptions<CrowdOptions> options,
    ILocalSiloDetails silo,
    LocalSessions local,
    ILogger<WorkerSessionGrain> logger) : Grain, IWorkerSessionGrain
{
    public const int SampleRate = 16_000;

    /// <summary>The chunk length every client is asked to send (<see cref="TakeStarted.ChunkMs"/>).</summary>
    public const int ChunkMs = 100;

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private readonly SpeechAnalyzer _analyzer = new(SampleRate);
    private readonly TakeBuffer _audio = new();
    private readonly LiveFrame[] _frames = new LiveFrame[8];
    private readonly HashSet<Guid> _skipped = [];

    private Guid _id;
    private Guid _jobId;
    private int _jobVersion;
    private Guid _contributorId;
    private SessionJob _job = null!;
    private LiveQuality _live = null!;
    private ActiveClock _clock = null!;
    private AudioRateLimiter _limiter = null!;
    private HeldPrompt? _prompt;
    private int _clips;
    private bool _closed = true;
    private bool _takeLost;

    private string? _connection;
    private ISessionObserver? _observer;
    private DateTimeOffset? _detachedAt;

    private Guid? _takeId;
    private TakeState _takeState;
    private int _expectedSeq;
    private bool _streaming;
    private ClipReport? _report;
    private Verdict? _verdict;
    private long _checkpointedMs = -1;
    private bool _deactivated;

    private RecordingOptions Options => options.Value.Recording;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _id = this.GetPrimaryKey();
        await using var scope = scopes.CreateAsyncScope();
        var loaded = await scope.ServiceProvider.GetRequiredService<WorkerSessions>().LoadAsync(_id, silo.SiloAddress.ToString(), cancellationToken);
        if (loaded is not { } session)
        {
            return; // closed, or never opened: every call answers "this session has ended"
        }
        var (row, job, prompt) = session;
        (_jobId, _jobVersion, _contributorId, _clips, _prompt) = (row.JobId, row.JobVersion, row.ContributorId, row.Clips, prompt);
        _job = WorkerSessions.Describe(job);
        _live = new LiveQuality(_job.Thresholds);
        // The clock starts stopped at the checkpointed time: nothing between the last checkpoint and now is paid.
        _clock = new ActiveClock(TimeSpan.FromSeconds(Options.IdleCutoffSeconds), row.ActiveMs, clock.GetUtcNow(), running: false);
        _checkpointedMs = row.ActiveMs;
        _limiter = new AudioRateLimiter(Options.AudioAheadSeconds, SampleRate, clock);
        _takeLost = row.CurrentTakeId is not null; // a take was in progress on a node that died
        _closed = false;
        var period = TimeSpan.FromSeconds(Options.CheckpointSeconds);
        this.RegisterGrainTimer(CheckpointTickAsync, new GrainTimerCreationOptions(period, period));
        local.Add(_id, this);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        local.Remove(_id, this);
        _deactivated = true;
        if (!_closed)
        {
            await CheckpointAsync(); // a node shutting down cleanly loses nothing
        }
        _audio.Release();
    }

    public async Task<SessionState> Join(string connectionId, ISessionObserver observer, bool takeOver)
    {
        EnsureOpen();
        if (_connection is { } other && other != connectionId)
        {
            if (!takeOver)
            {
                throw new RecordingRefusedException(RecordingErrors.OpenElsewhere);
            }
            // The other connection's stream ends here, but its take stays resumable, as when a connection drops: a page that
            // reconnected before this node noticed the old socket had gone sends what is missing; another tab starts a new take.
            _streaming = false;
            _observer?.Moved(RecordingErrors.SessionMoved).Ignore();
        }
        _connection = connectionId;
        _observer = observer;
        _detachedAt = null;
        var now = clock.GetUtcNow();
        _clock.Touch(now);
        var lost = _takeLost;
        _takeLost = false;
        return await StateAsync("joined", lost ? RecordingErrors.SessionInterrupted : null, _clock.Settle(now));
    }

    public Task Detach(string connectionId)
    {
        if (_connection == connectionId)
        {
            _connection = null;
            _observer = null;
            _streaming = false; // the take stays resumable: Join answers its id and the next sequence number
            _detachedAt = clock.GetUtcNow();
            _clock.Stop(_detachedAt.Value);
        }
        return Task.CompletedTask;
    }

    public async Task<SessionState> NextPrompt(string connectionId, bool skip)
    {
        EnsureHolder(connectionId);
        EnsureNotStreaming(); // before anything changes: a running stream keeps its take and its buffer
        if (skip)
        {
            if (_prompt is { } held)
            {
                _skipped.Add(held.Claim.PromptId);
            }
            _clock.Touch(clock.GetUtcNow());
        }
        DiscardTake();
        _prompt = null;
        var result = await GrainFactory.GetGrain<IRecordingJobGrain>(_jobId).ClaimNext(_id, _contributorId, [.. _skipped]);
        if (result.Task is { } claim)
        {
            await using var scope = scopes.CreateAsyncScope();
            var sessions = scope.ServiceProvider.GetRequiredService<WorkerSessions>();
            _prompt = new HeldPrompt(claim, await sessions.PromptTextAsync(claim.PromptId, CancellationToken.None));
            await sessions.HoldTaskAsync(_id, claim.TaskId, CancellationToken.None);
        }
        var (status, message) = result.Outcome switch
        {
            ClaimOutcome.Claimed => ("prompt", null),
            ClaimOutcome.JobClosed => ("job_closed", "This job is closed; no more prompts will be given out."),
            ClaimOutcome.JobNotOpen => ("job_not_open", RecordingErrors.JobNotOpen),
            ClaimOutcome.JobComplete => ("job_complete", "Every prompt of this job has all the takes it needs. Thank you!"),
            ClaimOutcome.SpeakerCapReached => ("speaker_cap", RecordingErrors.SpeakerCap),
            ClaimOutcome.NothingLeftForYou => ("nothing_left", "You have recorded or skipped every prompt that still needs takes."),
            _ => ("all_claimed", "Every remaining prompt is being recorded by someone else right now. Try again in a few minutes."),
        };
        return await StateAsync(status, message);
    }

    public Task<TakeStarted> StartTake(string connectionId)
    {
        EnsureHolder(connectionId);
        EnsureNotStreaming();
        if (_prompt is null)
        {
            throw new RecordingRefusedException(RecordingErrors.NoPrompt);
        }
        DiscardTake();
        _takeId = Guid.CreateVersion7();
        _takeState = TakeState.Recording;
        _expectedSeq = 0;
        _analyzer.Reset();
        _live.Reset();
        _limiter.Start();
        var now = clock.GetUtcNow();
        _clock.Touch(now);
        checkpoints.Queue(SessionCheckpoint.Renewal(_id, _contributorId, _jobId, now));
        return Task.FromResult(new TakeStarted(_takeId.Value, SampleRate, ChunkMs));
    }

    public Task BeginStream(string connectionId, Guid takeId)
    {
        EnsureHolder(connectionId);
        EnsureNotStreaming();
        if (_takeId != takeId || _takeState != TakeState.Recording)
        {
            throw new RecordingRefusedException(RecordingErrors.UnknownTake);
        }
        _streaming = true;
        // Chunks appended on this node reach the activation without a message, so they do not keep it alive by themselves.
        DelayDeactivation(TimeSpan.FromSeconds(Options.MaxTakeSeconds + Options.StreamIdleSeconds));
        return Task.CompletedTask;
    }

    /// <summary>Runs a stream's chunk on this activation's scheduler (see <see cref="LocalSessions"/>).</summary>
    internal void Queue(Task work) => GrainContext.Scheduler.QueueTask(work);

    /// <summary><see cref="Append"/> for a stream on this node; an activation that has ended answers as a lost node does.</summary>
    internal ChunkOutcome AppendLocal(string connectionId, Guid takeId, int seq, byte[]? pcm, int sampleRate) => _deactivated
        ? new ChunkOutcome([], RecordingErrors.SessionInterrupted)
        : AppendChunk(connectionId, takeId, seq, pcm, sampleRate);

    public ValueTask<ChunkOutcome> Append(string connectionId, Guid takeId, int seq, byte[]? pcm, int sampleRate) =>
        ValueTask.FromResult(AppendChunk(connectionId, takeId, seq, pcm, sampleRate));

    private ChunkOutcome AppendChunk(string connectionId, Guid takeId, int seq, byte[]? pcm, int sampleRate)
    {
        if (_closed || _connection != connectionId)
        {
            return new ChunkOutcome([], _closed ? RecordingErrors.SessionEnded : RecordingErrors.SessionMoved);
        }
        if (!_streaming || _takeId != takeId)
        {
            return new ChunkOutcome([], RecordingErrors.UnknownTake);
        }
        var options = Options;
        if (pcm is null || pcm.Length == 0 || pcm.Length % 2 != 0)
        {
            return Fail(RecordingErrors.NotPcm);
        }
        if (sampleRate != SampleRate)
        {
            return Fail(RecordingErrors.WrongRate, Text(sampleRate));
        }
        if (seq < _expectedSeq)
        {
            return new ChunkOutcome([]); // a chunk re-sent after a reconnect: already have it
        }
        if (seq > _expectedSeq)
        {
            return Fail(RecordingErrors.MissingChunk, Text(_expectedSeq), Text(seq));
        }
        var count = pcm.Length / 2;
        if (count > options.MaxChunkSamples)
        {
            return Fail(RecordingErrors.TooBig, Text(options.MaxChunkSamples));
        }
        if (!_limiter.TryTake(count))
        {
            return Fail(RecordingErrors.TooFast);
        }
        if ((long)_audio.Length + count > (long)options.MaxTakeSeconds * SampleRate)
        {
            return Fail(RecordingErrors.TakeTooLong, Text(options.MaxTakeSeconds));
        }
        ReadOnlySpan<short> samples = MemoryMarshal.Cast<byte, short>(pcm.AsSpan());
        if (!BitConverter.IsLittleEndian)
        {
            var swapped = new short[samples.Length];
            BinaryPrimitives.ReverseEndianness(samples, swapped);
            samples = swapped;
        }
        _audio.Append(samples);
        var frames = Analyse(takeId, seq, samples);
        _expectedSeq = seq + 1;
        _clock.Touch(clock.GetUtcNow());
        return new ChunkOutcome(frames);
    }

    private QualityFrame[] Analyse(Guid takeId, int seq, ReadOnlySpan<short> samples)
    {
        QualityFrame[]? result = null;
        for (var offset = 0; offset < samples.Length;)
        {
            // At most a few frames per slice, so the frame buffer always has room.
            var length = Math.Min(samples.Length - offset, SampleRate / 2);
            var written = _analyzer.Append(samples.Slice(offset, length), _frames);
            offset += length;
            if (written == 0)
            {
                continue;
            }
            var at = result?.Length ?? 0;
            Array.Resize(ref result, at + written);
            for (var i = 0; i < written; i++)
            {
                var f = _frames[i];
                var live = _live.Next(f);
                result[at + i] = new QualityFrame(takeId, seq, f.Index, f.RmsDbfs, f.PeakDbfs, f.ClippedSamples, f.Speech, f.NoiseFloorDbfs,
                    live.SnrDb, live.Level.Code(), live.Hints);
            }
        }
        return result ?? [];
    }

    private ChunkOutcome Fail(string error, params string[] arguments)
    {
        EndStreamAndDiscard(); // any bad chunk ends the take and keeps nothing of it
        return new ChunkOutcome([], error, arguments);
    }

    private static string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public async Task<TakeVerdict?> EndStream(string connectionId, Guid takeId, StreamEnd how)
    {
        if (!_streaming || _takeId != takeId || _connection != connectionId)
        {
            return null; // already ended: by a bad chunk, a take-over or the connection going
        }
        _streaming = false;
        if (how == StreamEnd.ConnectionLost)
        {
            return null; // the take waits for the contributor to come back
        }
        if (how == StreamEnd.Failed)
        {
            DiscardTake();
            return null;
        }
        var report = _analyzer.Complete();
        var verdict = QualityGate.Judge(report, _job.Thresholds);
        _report = report;
        _verdict = verdict;
        if (verdict.Passed)
        {
            _takeState = TakeState.Passed;
        }
        else
        {
            DiscardTake(); // a failing take is explained, never kept
            // A passing take's outcome is written with its clip; a failing one leaves only this row, for the job's dashboard.
            await using var scope = scopes.CreateAsyncScope();
            await TakeOutcomes.RecordAsync(scope.ServiceProvider.GetRequiredService<CrowdDb>(), takeId, _jobId, _id, _contributorId, verdict,
                clock.GetUtcNow(), CancellationToken.None);
        }
        _clock.Touch(clock.GetUtcNow());
        return new TakeVerdict(takeId, verdict.Passed, verdict.Reasons.Select(r => new VerdictReason(r.Code, r.Hint)).ToArray(), Metrics(report));
    }

    public Task Discard(string connectionId, bool dropPrompt)
    {
        EnsureHolder(connectionId);
        EnsureNotStreaming();
        DiscardTake();
        if (dropPrompt)
        {
            _prompt = null;
        }
        else
        {
            _clock.Touch(clock.GetUtcNow());
        }
        return Task.CompletedTask;
    }

    public async Task<SessionState> Ping(string connectionId, string activity)
    {
        EnsureHolder(connectionId);
        var now = clock.GetUtcNow();
        _clock.Touch(now);
        return await StateAsync(activity, null, _clock.Settle(now));
    }

    public async Task<SubmitOutcome> Submit(string connectionId, Guid takeId, BrowserSettings? settings)
    {
        EnsureHolder(connectionId);
        if (_takeId != takeId || _takeState != TakeState.Passed || _prompt is not { } prompt || _report is not { } report || _verdict is not { } verdict)
        {
            throw new RecordingRefusedException(RecordingErrors.NothingToSubmit);
        }
        _takeState = TakeState.Submitting;
        var wav = WavWriter.Pcm16Mono(_audio.ToArray(), SampleRate);
        var now = clock.GetUtcNow();
        _clock.Touch(now);
        // The time is settled once: the clip's pay, the row and the figure on screen are all this one number.
        var activeMs = _clock.Settle(now);

        var clipId = Guid.CreateVersion7();
        StoredClip? stored = null;
        AcceptOutcome outcome;
        try
        {
            stored = await vault.StoreAsync(clipId, wav, CancellationToken.None);
            outcome = await GrainFactory.GetGrain<IRecordingTaskGrain>(prompt.Claim.TaskId).Keep(new KeptTake(clipId, takeId, _id, _jobId,
                _jobVersion, prompt.Claim.PromptId, _contributorId, stored.StorageKey, stored.Sha256, stored.SizeBytes, stored.WrappedKey, SampleRate,
                (int)Math.Round(report.DurationSeconds * 1000), JsonSerializer.Serialize(report, s_json),
                JsonSerializer.Serialize(new { passed = verdict.Passed, codes = verdict.Codes.ToArray() }, s_json),
                JsonSerializer.Serialize(settings ?? new BrowserSettings(null, null, null, null, null, null, null), s_json), now, activeMs));
        }
        catch
        {
            if (stored is not null)
            {
                await vault.DeleteAsync(stored.StorageKey, CancellationToken.None);
            }
            if (_takeId == takeId)
            {
                _takeState = TakeState.Passed;
            }
            throw;
        }
        if (outcome != AcceptOutcome.Accepted)
        {
            await vault.DeleteAsync(stored.StorageKey, CancellationToken.None);
            DiscardTake();
            _prompt = null;
            await using (var scope = scopes.CreateAsyncScope())
            {
                await scope.ServiceProvider.GetRequiredService<TaskClaims>().ReleaseAsync(_id, CancellationToken.None); // the slot goes back to the pool
            }
            throw new RecordingRefusedException(outcome switch
            {
                AcceptOutcome.SpeakerCapReached => RecordingErrors.SpeakerCap,
                AcceptOutcome.ConsentWithdrawn => RecordingErrors.ConsentWithdrawn,
                AcceptOutcome.TermsChanged => RecordingErrors.NeedsConsent,
                _ => RecordingErrors.ClaimLost,
            });
        }
        _checkpointedMs = Math.Max(_checkpointedMs, activeMs);
        DiscardTake();
        _prompt = null;
        _clips++;
        return new SubmitOutcome(clipId, await StateAsync("submitted", null, activeMs));
    }

    public async Task Leave(string connectionId)
    {
        EnsureHolder(connectionId);
        await Close();
    }

    public async Task Close()
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        _streaming = false;
        DiscardTake();
        var activeMs = _clock.Stop(clock.GetUtcNow());
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<WorkerSessions>().CloseAsync(_id, _contributorId, _jobId, activeMs, CancellationToken.None);
        _observer = null;
        _connection = null;
        DeactivateOnIdle();
    }

    public async Task<long> Checkpoint()
    {
        var activeMs = await CheckpointAsync();
        if (_closed)
        {
            return activeMs;
        }
        var now = clock.GetUtcNow();
        await GrainFactory.GetGrain<IRecordingJobGrain>(_jobId).Checkpointed(_id, !_clock.IsIdle(now));
        // Nobody came back within the cut-off: the session ends, and the next visit starts a new one.
        if (_connection is null && _detachedAt is { } left && now - left >= TimeSpan.FromSeconds(Options.IdleCutoffSeconds))
        {
            await Close();
        }
        return activeMs;
    }

    public Task<bool> Held() => Task.FromResult(!_closed && _connection is not null);

    private async Task CheckpointTickAsync(CancellationToken ct)
    {
        try
        {
            await Checkpoint();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Checkpointing worker session {SessionId} failed; retrying at the next tick", _id);
        }
    }

    private async Task<long> CheckpointAsync()
    {
        if (_closed)
        {
            return _checkpointedMs;
        }
        var now = clock.GetUtcNow();
        var activeMs = _clock.Settle(now);
        var recording = _takeState == TakeState.Recording;
        var write = activeMs != _checkpointedMs || recording;
        var working = !_clock.IsIdle(now);
        if (!write && !working)
        {
            return activeMs;
        }
        var open = await checkpoints.WriteAsync(new SessionCheckpoint(_id, _contributorId, _jobId, activeMs, _clock.LastEvent,
            recording ? _takeId : null, recording ? _expectedSeq - 1 : -1, write, working));
        if (!open)
        {
            // Closed from elsewhere (new terms opened a new session): this one is over.
            _closed = true;
            _observer?.Moved(RecordingErrors.SessionEnded).Ignore();
            DeactivateOnIdle();
            return activeMs;
        }
        if (write)
        {
            _checkpointedMs = Math.Max(_checkpointedMs, activeMs);
        }
        return activeMs;
    }

    private async Task<SessionState> StateAsync(string status, string? message, long? settledMs = null)
    {
        var activeMs = settledMs ?? _clock.Settle(clock.GetUtcNow());
        await using var scope = scopes.CreateAsyncScope();
        var (accepted, needed) = await scope.ServiceProvider.GetRequiredService<WorkerSessions>().ProgressAsync(_jobId, CancellationToken.None);
        var prompt = _prompt is { } p ? new PromptView(p.Claim.TaskId, p.Claim.Ordinal, p.Text) : null;
        var resumable = _takeState == TakeState.Recording ? _takeId : null;
        // The ledger's own rule (rounded up to the next minor unit), so the figure shown is what this session accrues.
        var earned = PayCalculator.PayForActiveTime(activeMs, _job.HourlyRateMinor);
        return new SessionState(_id, _jobId, _jobVersion, _job.Title, activeMs, earned, _job.Currency, _clips, accepted, needed, prompt, status,
            message, resumable, resumable is null ? 0 : _expectedSeq);
    }

    private void EnsureOpen()
    {
        if (_closed)
        {
            throw new RecordingRefusedException(RecordingErrors.SessionEnded);
        }
    }

    private void EnsureHolder(string connectionId)
    {
        EnsureOpen();
        if (_connection != connectionId)
        {
            // Nobody holds a session that has just re-activated after its node died: the caller joins again.
            throw new RecordingRefusedException(_connection is null ? RecordingErrors.SessionInterrupted : RecordingErrors.SessionMoved);
        }
    }

    private void EnsureNotStreaming()
    {
        if (_streaming)
        {
            throw new RecordingRefusedException(RecordingErrors.OneStream);
        }
    }

    private void EndStreamAndDiscard()
    {
        _streaming = false;
        DiscardTake();
    }

    private void DiscardTake()
    {
        _takeId = null;
        _takeState = TakeState.None;
        _expectedSeq = 0;
        _report = null;
        _verdict = null;
        _audio.Release();
    }

    private static TakeMetrics Metrics(ClipReport r) => new(r.DurationSeconds, r.RmsDbfs, r.PeakDbfs, r.SpeechLevelDbfs, r.NoiseFloorDbfs,
        r.SnrDb, r.SpeechRatio, r.ClippedRatio, r.LeadingSilenceSeconds, r.TrailingSilenceSeconds);
}

/// <summary>
/// One take's PCM16 samples, in segments of about a second from this node's pool of them: a take grows without copying
/// what it has, and once the pool is warm no take allocates (whole-take buffers came from the large-object heap, one or two
/// per take, and cost the server more in page faults than the audio analysis). Owned by one grain.
/// </summary>
public sealed class TakeBuffer
{
    private const int SegmentSamples = 16_384;

    /// <summary>Up to 512 MB kept: a node at a thousand recorders has up to ten thousand segments in takes at once.</summary>
    private static readonly ReusedArrays<short> s_segments = new(SegmentSamples, maxKept: 16_384);
    private readonly List<short[]> _segments = [];

    public int Length { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Append(ReadOnlySpan<short> samples)
    {
        while (!samples.IsEmpty)
        {
            var offset = Length % SegmentSamples;
            if (offset == 0)
            {
                _segments.Add(s_segments.Rent(SegmentSamples));
            }
            var count = Math.Min(samples.Length, SegmentSamples - offset);
            samples[..count].CopyTo(_segments[^1].AsSpan(offset));
            samples = samples[count..];
            Length += count;
        }
    }

    public short[] ToArray()
    {
        var all = new short[Length];
        for (var i = 0; i < _segments.Count; i++)
        {
            var start = i * SegmentSamples;
            _segments[i].AsSpan(0, Math.Min(SegmentSamples, Length - start)).CopyTo(all.AsSpan(start));
        }
        return all;
    }

    public void Release()
    {
        foreach (var segment in _segments)
        {
            s_segments.Return(segment);
        }
        _segments.Clear();
        Length = 0;
    }
}
