using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;

namespace Crowd.Server.Features.Recording.Sessions;

/// <summary>
/// The session grains active on this node. A stream whose session lives here hands its chunks to the activation's own
/// scheduler (<see cref="LocalAppend"/>) instead of sending each through Orleans' messaging; a session on another node
/// is reached with the grain call, as every other call is.
/// </summary>
/// <remarks>
/// Sessions are placed on the node of their contributor's connection, so nearly every stream is local. At a thousand
/// recorders the grain call per chunk (message, invokable, response, callback) was half of everything the node
/// allocated. A chunk queued on the activation runs exactly where the call would: between the turns of the session's
/// other calls, one at a time.
/// </remarks>
public sealed class LocalSessions
{
    private readonly ConcurrentDictionary<Guid, WorkerSessionGrain> _active = new();

    internal void Add(Guid sessionId, WorkerSessionGrain grain) => _active[sessionId] = grain;

    internal void Remove(Guid sessionId, WorkerSessionGrain grain) => _active.TryRemove(KeyValuePair.Create(sessionId, grain));

    /// <summary>A way to append chunks to the session for one stream, or null when the session is not active on this node.</summary>
    public LocalAppend? Open(Guid sessionId) => _active.TryGetValue(sessionId, out var grain) ? new LocalAppend(grain) : null;
}

/// <summary>
/// One stream's chunks, appended on the session activation's scheduler, one at a time: the caller awaits each before
/// it appends the next. Nothing is allocated per chunk but the task the scheduler runs.
/// </summary>
public sealed class LocalAppend : IValueTaskSource<ChunkOutcome>
{
    private static readonly Action<object?> s_run = static s => ((LocalAppend)s!).Run();

    private readonly WorkerSessionGrain _grain;
    // The caller goes on on the pool, never inside the session's turn.
    private ManualResetValueTaskSourceCore<ChunkOutcome> _core = new() { RunContinuationsAsynchronously = true };
    private string _connectionId = "";
    private Guid _takeId;
    private int _seq;
    private byte[]? _pcm;
    private int _sampleRate;

    internal LocalAppend(WorkerSessionGrain grain) => _grain = grain;

    public ValueTask<ChunkOutcome> Append(string connectionId, Guid takeId, int seq, byte[]? pcm, int sampleRate)
    {
        _core.Reset();
        (_connectionId, _takeId, _seq, _pcm, _sampleRate) = (connectionId, takeId, seq, pcm, sampleRate);
        // The hub's execution context flows into the chunk's turn; nothing there reads it. Orleans' own way of queueing
        // work suppresses it, which copied the context three times per chunk: a fifth of what the node allocated.
        _grain.Queue(new Task(s_run, this));
        return new ValueTask<ChunkOutcome>(this, _core.Version);
    }

    private void Run()
    {
        var pcm = _pcm;
        _pcm = null; // the caller's array: it may be handed out again as soon as the result is set
        try
        {
            _core.SetResult(_grain.AppendLocal(_connectionId, _takeId, _seq, pcm, _sampleRate));
        }
        catch (Exception e)
        {
            _core.SetException(e);
        }
    }

    ChunkOutcome IValueTaskSource<ChunkOutcome>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<ChunkOutcome>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<ChunkOutcome>.OnCompleted(Action<object?> continuation, object? state, short token,
        ValueTaskSourceOnCompletedFlags flags) => _core.OnCompleted(continuation, state, token, flags);
}
