using System.Threading.Channels;

namespace Crowd.Server.Features.Recording.Sessions;

/// <summary>
/// This node's session checkpoints, written together. Every session checkpoints every few seconds; a thousand sessions
/// writing one transaction each kept the database busier than the audio kept the server. Checkpoints that arrive while a
/// batch is being written (or within <see cref="Gather"/> of the first) go in the next one. A batch that fails is written
/// again one checkpoint at a time, so one bad session never holds the others back.
/// </summary>
public sealed class SessionCheckpoints : IAsyncDisposable
{
    private const int MaxBatch = 500;
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(50);

    private readonly IServiceScopeFactory _scopes;
    private readonly ILogger<SessionCheckpoints> _logger;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    public SessionCheckpoints(IServiceScopeFactory scopes, ILogger<SessionCheckpoints> logger)
    {
        _scopes = scopes;
        _logger = logger;
        _writer = Task.Run(WriteBatchesAsync);
    }

    /// <summary>Writes the checkpoint with the next batch. True when the session is still open (or was not written).</summary>
    public Task<bool> WriteAsync(SessionCheckpoint checkpoint)
    {
        var pending = new Pending(checkpoint, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            pending.Done.SetException(new ObjectDisposedException(nameof(SessionCheckpoints)));
        }
        return pending.Done.Task;
    }

    /// <summary>
    /// Writes the checkpoint with the next batch without waiting for it: a contributor starting a take never waits on the
    /// database, which under load took half a second. A failure is logged; the next checkpoint writes it again.
    /// </summary>
    public void Queue(SessionCheckpoint checkpoint) =>
        WriteAsync(checkpoint).ContinueWith(t => _logger.LogWarning(t.Exception, "A queued checkpoint of session {SessionId} failed", checkpoint.SessionId),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    private async Task WriteBatchesAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            await Task.Delay(Gather);
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }
            await WriteAsync(batch);
            batch.Clear();
        }
    }

    private async Task WriteAsync(IReadOnlyList<Pending> batch)
    {
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var open = await scope.ServiceProvider.GetRequiredService<WorkerSessions>()
                .CheckpointManyAsync(batch.Select(p => p.Checkpoint).ToList(), CancellationToken.None);
            foreach (var pending in batch)
            {
                pending.Done.SetResult(!pending.Checkpoint.Write || open.Contains(pending.Checkpoint.SessionId));
            }
        }
        catch (Exception e) when (batch.Count > 1)
        {
            _logger.LogWarning(e, "A batch of {Count} session checkpoints failed; writing them one by one", batch.Count);
            foreach (var pending in batch)
            {
                await WriteAsync([pending]);
            }
        }
        catch (Exception e)
        {
            batch[0].Done.SetException(e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
    }

    private sealed record Pending(SessionCheckpoint Checkpoint, TaskCompletionSource<bool> Done);
}
