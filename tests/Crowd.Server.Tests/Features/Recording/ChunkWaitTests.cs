using System.Threading.Channels;
using Crowd.Server.Features.Recording.Streaming;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Recording;

public sealed class ChunkWaitTests : IDisposable
{
    private static readonly TimeSpan s_idleAfter = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_settle = TimeSpan.FromSeconds(10);

    // As SignalR hands a stream to the hub: a bounded channel whose reader continues on the thread pool.
    private readonly Channel<AudioChunk> _stream = Channel.CreateBounded<AudioChunk>(10);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 29, 8, 0, 0, TimeSpan.Zero));
    private readonly CancellationTokenSource _moved = new();
    private readonly CancellationTokenSource _idle = new();
    private readonly CancellationTokenSource _stop;
    private readonly ChunkWait _wait;

    public ChunkWaitTests()
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(_moved.Token, _idle.Token);
        _wait = new ChunkWait(_stream.Reader, _idle, s_idleAfter, _clock, _stop.Token);
    }

    [Fact]
    public async Task AChunkThatArrivesWhileTheHubWaitsEndsTheWait()
    {
        var waiting = _wait.WaitAsync();
        waiting.IsCompleted.ShouldBeFalse();

        _stream.Writer.TryWrite(Chunk(0)).ShouldBeTrue();

        (await waiting.AsTask().WaitAsync(s_settle)).ShouldBeTrue();
        _stream.Reader.TryRead(out var chunk).ShouldBeTrue();
        chunk!.Seq.ShouldBe(0);
    }

    [Fact]
    public async Task OneWaiterServesEveryChunkOfTheStream()
    {
        for (var seq = 0; seq < 200; seq++)
        {
            var waiting = _wait.WaitAsync();
            _stream.Writer.TryWrite(Chunk(seq)).ShouldBeTrue();
            (await waiting.AsTask().WaitAsync(s_settle)).ShouldBeTrue();
            _stream.Reader.TryRead(out var chunk).ShouldBeTrue();
            chunk!.Seq.ShouldBe(seq);
        }
    }

    [Fact]
    public async Task AStreamTheClientCompletesEndsTheWaitWithFalse()
    {
        var waiting = _wait.WaitAsync();

        _stream.Writer.Complete();

        (await waiting.AsTask().WaitAsync(s_settle)).ShouldBeFalse();
    }

    [Fact]
    public async Task AStreamThatBreaksEndsTheWaitWithItsError()
    {
        var waiting = _wait.WaitAsync();

        _stream.Writer.Complete(new InvalidDataException("seq is not a number"));

        await Should.ThrowAsync<InvalidDataException>(() => waiting.AsTask().WaitAsync(s_settle));
    }

    [Fact]
    public async Task ATakeOverEndsAWaitInProgressAndEveryWaitAfterIt()
    {
        var waiting = _wait.WaitAsync();

        await _moved.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(() => waiting.AsTask().WaitAsync(s_settle));
        _stream.Writer.TryWrite(Chunk(0)).ShouldBeTrue();
        await Should.ThrowAsync<OperationCanceledException>(async () => await _wait.WaitAsync());
        _idle.IsCancellationRequested.ShouldBeFalse();
    }

    [Fact]
    public async Task OnlyTheTimeSpentWaitingForTheClientCountsAsIdle()
    {
        // The node works on a chunk for 4 s: that is not the client's silence.
        _clock.Advance(TimeSpan.FromSeconds(4));
        var waiting = _wait.WaitAsync();

        _clock.Advance(TimeSpan.FromSeconds(4.9));
        _idle.IsCancellationRequested.ShouldBeFalse();
        waiting.IsCompleted.ShouldBeFalse();

        _clock.Advance(TimeSpan.FromSeconds(0.1));
        _idle.IsCancellationRequested.ShouldBeTrue();
        await Should.ThrowAsync<OperationCanceledException>(() => waiting.AsTask().WaitAsync(s_settle));
    }

    [Fact]
    public async Task AChunkBeforeTheDeadlineStartsTheSilenceAgain()
    {
        var first = _wait.WaitAsync();
        _clock.Advance(TimeSpan.FromSeconds(4));
        _stream.Writer.TryWrite(Chunk(0)).ShouldBeTrue();
        (await first.AsTask().WaitAsync(s_settle)).ShouldBeTrue();
        _stream.Reader.TryRead(out _).ShouldBeTrue();

        var second = _wait.WaitAsync();
        _clock.Advance(TimeSpan.FromSeconds(4.9));
        _idle.IsCancellationRequested.ShouldBeFalse();

        _clock.Advance(TimeSpan.FromSeconds(0.1));
        _idle.IsCancellationRequested.ShouldBeTrue();
        await Should.ThrowAsync<OperationCanceledException>(() => second.AsTask().WaitAsync(s_settle));
    }

    [Fact]
    public void NoWaitAfterTheStreamEndedCountsAsIdle()
    {
        _wait.Dispose();

        _clock.Advance(TimeSpan.FromMinutes(1));

        _idle.IsCancellationRequested.ShouldBeFalse();
    }

    private static AudioChunk Chunk(int seq) => new(seq, new byte[3_200], 16_000);

    public void Dispose()
    {
        _wait.Dispose();
        _stop.Dispose();
        _idle.Dispose();
        _moved.Dispose();
    }
}
