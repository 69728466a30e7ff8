namespace Crowd.Server.Features.Recording.Sessions;

/// <summary>
/// Paid active time. While the contributor is connected, every event (an audio chunk, a listen-back, a mic check, a
/// re-record) keeps the clock running for up to <c>idleCutoff</c> after it; a longer gap counts only up to the cut-off.
/// When the connection goes, the clock stops at that moment (never later than the cut-off) and stays stopped until the
/// next event. Time is settled lazily, so a checkpoint can read it at any moment without counting anything twice.
/// </summary>
public sealed class ActiveClock
{
    private readonly TimeSpan _idleCutoff;
    private long _activeMs;
    private DateTimeOffset _lastEvent;
    private DateTimeOffset _settledUntil;
    private bool _stopped;

    public ActiveClock(TimeSpan idleCutoff, long activeMs, DateTimeOffset now, bool running = true)
    {
        _idleCutoff = idleCutoff;
        _activeMs = activeMs;
        _lastEvent = now;
        _settledUntil = now;
        _stopped = !running;
    }

    public DateTimeOffset LastEvent => _lastEvent;

    public bool Stopped => _stopped;

    public void Touch(DateTimeOffset now)
    {
        if (_stopped)
        {
            _stopped = false;
            _settledUntil = now > _settledUntil ? now : _settledUntil; // nothing between the stop and now is paid
        }
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

    /// <summary>The contributor left (the connection went): time counts up to now, at most to the cut-off, and no further.</summary>
    public long Stop(DateTimeOffset now)
    {
        var total = Settle(now);
        _stopped = true;
        return total;
    }

    /// <summary>Active milliseconds up to <paramref name="now"/>.</summary>
    public long Settle(DateTimeOffset now)
    {
        if (_stopped)
        {
            return _activeMs;
        }
        var end = now < _lastEvent + _idleCutoff ? now : _lastEvent + _idleCutoff;
        if (end > _settledUntil)
        {
            _activeMs += (long)(end - _settledUntil).TotalMilliseconds;
            _settledUntil = end;
        }
        return _activeMs;
    }

    public bool IsIdle(DateTimeOffset now) => _stopped || now - _lastEvent >= _idleCutoff;
}
