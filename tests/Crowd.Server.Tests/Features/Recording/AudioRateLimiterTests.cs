using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Tests.Infrastructure;

namespace Crowd.Server.Tests.Features.Recording;

public sealed class AudioRateLimiterTests
{
    private readonly FakeTime _clock = new();

    private AudioRateLimiter Limiter() => new(secondsPerSecond: 2, burstSeconds: 1, sampleRate: 16_000, _clock);

    [Fact]
    public void QuarterSecondChunksEvery55MillisecondsAreRefusedWithinASecond()
    {
        var limiter = Limiter();
        var accepted = 0;
        while (accepted < 100 && limiter.TryTake(4_000))
        {
            accepted++;
            _clock.Advance(TimeSpan.FromMilliseconds(55));
        }

        accepted.ShouldBeLessThan(10, "4.5× real time drains a one-second burst in well under a second");
    }

    [Fact]
    public void RealTimeAudioIsAcceptedForAsLongAsItLasts()
    {
        var limiter = Limiter();

        for (var i = 0; i < 6_000; i++) // ten minutes of 100 ms chunks
        {
            limiter.TryTake(1_600).ShouldBeTrue($"chunk {i}");
            _clock.Advance(TimeSpan.FromMilliseconds(100));
        }
    }

    [Fact]
    public void ABrowserCatchingUpAtTwiceRealTimeAfterAStallIsAccepted()
    {
        var limiter = Limiter();
        _clock.Advance(TimeSpan.FromSeconds(2)); // a stall: 20 chunks wait in the browser

        for (var i = 0; i < 40; i++)
        {
            limiter.TryTake(1_600).ShouldBeTrue($"chunk {i}");
            _clock.Advance(TimeSpan.FromMilliseconds(50));
        }
    }

    [Fact]
    public void SmallChunksCountByTheirAudioNotByTheirNumber()
    {
        var limiter = Limiter();
        var accepted = 0;
        while (accepted < 1_000 && limiter.TryTake(160))
        {
            accepted++;
            _clock.Advance(TimeSpan.FromMilliseconds(2)); // 10 ms of audio every 2 ms: 5× real time
        }

        accepted.ShouldBeInRange(100, 200, "a one-second burst is 100 such chunks, refilled at two seconds per second");
    }
}
