namespace Crowd.Server.Features.Recording.Sessions;

/// <summary>
/// Paid active time. Every event (an audio chunk, a listen-back, a mic check, a re-record) keeps the clock running
/// for up to <c>idleCutoff</c> after it; a longer gap counts only up to the cut-off. Time is settled lazily, so a
/// checkpoint can read it at any moment without counting anything twice.
/// </summary>
public sealed class ActiveClock
{
    private readonly TimeSpan _idleCutoff;
    private long _activeMs;
    private DateTimeOffset _lastEvent;
    private DateTimeOffset _settledUntil;

    public ActiveClock(TimeSpan idleCutoff, long activeMs, DateTimeOffset now)
    {
        _idleCutoff = idleCutoff;
        _activeMs = activeMs;
        _lastEvent = now;
        _settledUntil = now;
    }

    public DateTimeOffset LastEvent => _lastEvent;

    public void Touch(DateTimeOffset now)
    {
        Settle(now);
        if (now > _lastEvent)
        {
            _lastEvent = now;
        }
        if (_settledUntil < _lastEvent)
        {
            _settledUntil = _lastEvent; // the gap beyond the cut-off is not paid
        }
    }

    /// <summary>Active milliseconds up to <paramref name="now"/>.</summary>
    public long Settle(DateTimeOffset now)
    {
        var end = now < _lastEvent + _idleCutoff ? now : _lastEvent + _idleCutoff;
        if (end > _settledUntil)
        {
            _activeMs += (long)(end - _settledUntil).TotalMilliseconds;
            _settledUntil = end;
        }
        return _activeMs;
    }

    public bool IsIdle(DateTimeOffset now) => now - _lastEvent >= _idleCutoff;
}
