using System.Runtime.CompilerServices;
using System.Threading.Channels;
using System.Threading.Tasks.Sources;

namespace Crowd.Server.Features.Recording.Streaming;

/// <summary>
/// Waits for the next chunk of one take's stream, for the whole stream. The wait ends early when <c>stop</c> is
/// cancelled (a take-over, the connection gone), and cancels <c>idle</c> once the client has sent nothing for
/// <c>idleAfter</c> while the hub waited: only the client's silence counts, not the time the node spends on a chunk.
/// </summary>
/// <remarks>
/// A channel wait given a token that can be cancelled allocates a new waiter every time, and an idle deadline moved on
/// every chunk moves a timer twice per chunk. At a thousand recorders the waiters alone were a sixth of everything the
/// node allocated. Here the channel's own reusable waiter is used, the token is registered once, and the idle timer
/// fires about once per <c>idleAfter</c>.
/// </remarks>
public sealed class ChunkWait : IValueTaskSource<bool>, IDisposable
{
    private const int Busy = 0;
    private const int Waiting = 1;
    private const int Ended = 2;

    private readonly ChannelReader<AudioChunk> _chunks;
    private readonly CancellationToken _stop;
    private readonly CancellationTokenSource _idle;
    private readonly TimeSpan _idleAfter;
    private readonly TimeProvider _clock;
    private readonly Action _onReady;
    private readonly CancellationTokenRegistration _stopped;
    private readonly ITimer _idleTimer;
    private ManualResetValueTaskSourceCore<bool> _core;
    private ConfiguredValueTaskAwaitable<bool>.ConfiguredValueTaskAwaiter _pending;
    private long _waitingSince;
    private int _state;

    public ChunkWait(ChannelReader<AudioChunk> chunks, CancellationTokenSource idle, TimeSpan idleAfter, TimeProvider clock, CancellationToken stop)
    {
        (_chunks, _idle, _idleAfter, _clock, _stop) = (chunks, idle, idleAfter, clock, stop);
        _onReady = OnReady;
        // Cancellation runs its callbacks inline, possibly inside a grain observer's call: the hub resumes on the pool instead.
        _stopped = stop.UnsafeRegister(static s => ThreadPool.UnsafeQueueUserWorkItem(static w => ((ChunkWait)w!).OnStop(), s), this);
        _idleTimer = clock.CreateTimer(static s => ((ChunkWait)s!).CheckIdle(), this, idleAfter, Timeout.InfiniteTimeSpan);
    }

    /// <summary>True when a chunk can be read, false when the client completed the stream; throws when it was stopped or broken.</summary>
    public ValueTask<bool> WaitAsync()
    {
        _stop.ThrowIfCancellationRequested();
        var wait = _chunks.WaitToReadAsync();
        if (wait.IsCompleted)
        {
            return wait;
        }
        _core.Reset();
        _pending = wait.ConfigureAwait(false).GetAwaiter();
        Volatile.Write(ref _waitingSince, _clock.GetTimestamp());
        Volatile.Write(ref _state, Waiting);
        _pending.UnsafeOnCompleted(_onReady);
        if (_stop.IsCancellationRequested)
        {
            OnStop(); // stopped between the check above and the wait: the registration found nothing to end
        }
        return new ValueTask<bool>(this, _core.Version);
    }

    private void OnReady()
    {
        if (Interlocked.CompareExchange(ref _state, Busy, Waiting) != Waiting)
        {
            return; // the wait was stopped first and the hub has moved on
        }
        bool more;
        try
        {
            more = _pending.GetResult();
        }
        catch (Exception e)
        {
            _core.SetException(e); // an item that could not be read completes the stream with its error
            return;
        }
        _core.SetResult(more);
    }

    private void OnStop()
    {
        if (Interlocked.CompareExchange(ref _state, Ended, Waiting) == Waiting)
        {
            _core.SetException(new OperationCanceledException(_stop));
        }
    }

    private void CheckIdle()
    {
        var state = Volatile.Read(ref _state);
        var due = _idleAfter;
        if (state == Waiting)
        {
            var waited = _clock.GetElapsedTime(Volatile.Read(ref _waitingSince));
            if (waited >= _idleAfter)
            {
                Cancel(_idle);
                return;
            }
            due = _idleAfter - waited;
        }
        if (state != Ended)
        {
            try
            {
                _idleTimer.Change(due, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // the stream ended while this ran
            }
        }
    }

    private static void Cancel(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the stream ended while the timer fired
        }
    }

    public void Dispose()
    {
        Volatile.Write(ref _state, Ended);
        _stopped.Dispose();
        _idleTimer.Dispose();
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
