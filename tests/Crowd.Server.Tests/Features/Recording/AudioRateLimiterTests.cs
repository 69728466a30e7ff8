using Crowd.Server.Features.Recording.Sessions;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Recording;

public sealed class AudioRateLimiterTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 21, 8, 0, 0, TimeSpan.Zero));

    private AudioRateLimiter StartedTake()
    {
        var limiter = new AudioRateLimiter(aheadSeconds: 1, sampleRate: 16_000, _clock);
        limiter.Start();
        return limiter;
    }

    [Fact]
    public void QuarterSecondChunksEvery55MillisecondsAreRefusedWithinASecond()
    {
        var limiter = StartedTake();
        var accepted = 0;
        while (accepted < 100 && limiter.TryTake(4_000))
        {
            accepted++;
            _clock.Advance(TimeSpan.FromMilliseconds(55));
        }

        accepted.ShouldBeLessThan(10, "4.5× real time gets one second ahead in well under a second");
    }

    [Fact]
    public void RealTimeAudioIsAcceptedForAsLongAsItLasts()
    {
        var limiter = StartedTake();

        for (var i = 0; i < 6_000; i++) // ten minutes of 100 ms chunks
        {
            limiter.TryTake(1_600).ShouldBeTrue($"chunk {i}");
            _clock.Advance(TimeSpan.FromMilliseconds(100));
        }
    }

    [Fact]
    public void ABrowserCatchingUpAtTwiceRealTimeAfterAStallIsAccepted()
    {
        var limiter = StartedTake();
        _clock.Advance(TimeSpan.FromSeconds(2)); // a stall: 20 chunks wait in the browser

        for (var i = 0; i < 40; i++)
        {
            limiter.TryTake(1_600).ShouldBeTrue($"chunk {i}");
            _clock.Advance(TimeSpan.FromMilliseconds(50));
        }
    }

    [Fact]
    public void AStalledConnectionDeliveringFiveSecondsOfBacklogAtOnceIsAccepted()
    {
        var limiter = StartedTake();
        _clock.Advance(TimeSpan.FromSeconds(5)); // the network or the server stalled; the microphone did not

        for (var i = 0; i < 50; i++)
        {
            limiter.TryTake(1_600).ShouldBeTrue($"chunk {i}");
        }
        limiter.TryTake(16_000).ShouldBeTrue("one more second: the take may run one second ahead");
        limiter.TryTake(1_600).ShouldBeFalse("but no further");
    }

    [Fact]
    public void SmallChunksCountByTheirAudioNotByTheirNumber()
    {
        var limiter = StartedTake();
        var accepted = 0;
        while (accepted < 1_000 && limiter.TryTake(160))
        {
            accepted++;
            _clock.Advance(TimeSpan.FromMilliseconds(2)); // 10 ms of audio every 2 ms: 5× real time
        }

        accepted.ShouldBeInRange(120, 130, "one second ahead after about 125 such chunks: 1.25 s of audio in 0.25 s");
    }

    [Fact]
    public void ANewTakeStartsFromNothing()
    {
        var limiter = StartedTake();
        limiter.TryTake(16_000).ShouldBeTrue();
        limiter.TryTake(1_600).ShouldBeFalse();

        limiter.Start();

        limiter.TryTake(16_000).ShouldBeTrue();
    }
}
