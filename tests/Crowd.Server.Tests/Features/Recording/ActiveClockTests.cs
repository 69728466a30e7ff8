using Crowd.Server.Features.Recording.Sessions;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Recording;

public sealed class ActiveClockTests
{
    private static readonly TimeSpan s_cutoff = TimeSpan.FromMinutes(2);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 21, 8, 0, 0, TimeSpan.Zero));

    [Fact]
    public void TimeBetweenEventsCountsWhileTheyComeWithinTheCutoff()
    {
        var clock = new ActiveClock(s_cutoff, 0, _clock.GetUtcNow());

        for (var i = 0; i < 30; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(10));
            clock.Touch(_clock.GetUtcNow());
        }

        clock.Settle(_clock.GetUtcNow()).ShouldBe(300_000);
    }

    [Fact]
    public void TheClockStopsTwoMinutesAfterTheLastAudioOrInteraction()
    {
        var clock = new ActiveClock(s_cutoff, 0, _clock.GetUtcNow());
        _clock.Advance(TimeSpan.FromSeconds(30));
        clock.Touch(_clock.GetUtcNow());

        _clock.Advance(TimeSpan.FromMinutes(10));

        clock.Settle(_clock.GetUtcNow()).ShouldBe(30_000 + 120_000);
        clock.IsIdle(_clock.GetUtcNow()).ShouldBeTrue();
    }

    [Fact]
    public void ComingBackAfterALongBreakPaysTheCutoffOnceAndThenCountsAgain()
    {
        var clock = new ActiveClock(s_cutoff, 5_000, _clock.GetUtcNow());
        _clock.Advance(TimeSpan.FromHours(1));
        clock.Touch(_clock.GetUtcNow());
        _clock.Advance(TimeSpan.FromSeconds(20));
        clock.Touch(_clock.GetUtcNow());

        clock.Settle(_clock.GetUtcNow()).ShouldBe(5_000 + 120_000 + 20_000);
    }

    [Fact]
    public void SettlingAsOftenAsYouLikeNeverCountsAMomentTwice()
    {
        var clock = new ActiveClock(s_cutoff, 0, _clock.GetUtcNow());
        for (var i = 0; i < 100; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(3));
            clock.Settle(_clock.GetUtcNow());
            clock.Settle(_clock.GetUtcNow());
        }

        clock.Settle(_clock.GetUtcNow()).ShouldBe(120_000);
    }
}
