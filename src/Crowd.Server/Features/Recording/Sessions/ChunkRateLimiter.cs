namespace Crowd.Server.Features.Recording.Sessions;

/// <summary>A token bucket over chunk arrivals: real-time audio needs ~10 chunks a second, a burst allows catching up after a hiccup.</summary>
public sealed class ChunkRateLimiter(int perSecond, int burst, long startTimestamp, TimeProvider clock)
{
    private double _tokens = burst;
    private long _last = startTimestamp;

    public bool TryTake()
    {
        var now = clock.GetTimestamp();
        _tokens = Math.Min(burst, _tokens + (clock.GetElapsedTime(_last, now).TotalSeconds * perSecond));
        _last = now;
        if (_tokens < 1)
        {
            return false;
        }
        _tokens -= 1;
        return true;
    }
}
