namespace Crowd.Server.Features.Recording.Sessions;

/// <summary>
/// Holds a take to real time by its audio, not by its messages: the audio received since the take began may not run
/// more than <c>aheadSeconds</c> ahead of the wall time since then. Counting chunks let 250 ms chunks through every
/// 55 ms (4.5× real time). A rate over a short window refused honest takes too: a network or a server that stalls for
/// a moment delivers a backlog at once, which is still audio a microphone recorded in real time.
/// </summary>
public sealed class AudioRateLimiter(double aheadSeconds, int sampleRate, TimeProvider clock)
{
    private readonly double _ahead = aheadSeconds * sampleRate;
    private long _started = clock.GetTimestamp();
    private long _samples;

    /// <summary>A new take begins now, with no audio yet.</summary>
    public void Start()
    {
        _started = clock.GetTimestamp();
        _samples = 0;
    }

    /// <summary>Counts <paramref name="samples"/> into the take, or refuses them when they would put it ahead of real time.</summary>
    public bool TryTake(int samples)
    {
        var allowed = (clock.GetElapsedTime(_started).TotalSeconds * sampleRate) + _ahead;
        if (_samples + samples > allowed)
        {
            return false;
        }
        _samples += samples;
        return true;
    }
}
