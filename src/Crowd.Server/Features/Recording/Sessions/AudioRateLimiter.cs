namespace Crowd.Server.Features.Recording.Sessions;

/// <summary>
/// A token bucket over audio, not over messages: it refills at <c>secondsPerSecond</c> seconds of audio per second of
/// wall time and holds at most <c>burstSeconds</c>. Counting chunks let 250 ms chunks through every 55 ms (4.5× real
/// time); counting samples holds whatever the chunk size.
/// </summary>
public sealed class AudioRateLimiter(double secondsPerSecond, double burstSeconds, int sampleRate, TimeProvider clock)
{
    private readonly double _refillPerSecond = secondsPerSecond * sampleRate;
    private readonly double _capacity = burstSeconds * sampleRate;
    private double _samples = burstSeconds * sampleRate;
    private long _last = clock.GetTimestamp();

    /// <summary>Starts a new stream with a full bucket.</summary>
    public void Reset()
    {
        _samples = _capacity;
        _last = clock.GetTimestamp();
    }

    /// <summary>Takes <paramref name="samples"/> from the bucket, or nothing when the stream is ahead of what real time allows.</summary>
    public bool TryTake(int samples)
    {
        var now = clock.GetTimestamp();
        _samples = Math.Min(_capacity, _samples + (clock.GetElapsedTime(_last, now).TotalSeconds * _refillPerSecond));
        _last = now;
        if (_samples < samples)
        {
            return false;
        }
        _samples -= samples;
        return true;
    }
}
