using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;

namespace Crowd.Benchmarks;

/// <summary>
/// One stop of a process: when it began, how long it lasted, and the generation it collected, or -1 when the runtime
/// stopped the process for something else (installing recompiled code, mostly).
/// </summary>
public sealed record GcPause(DateTime At, int Generation, double Ms);

/// <summary>A step's stops of the servers, or of the client: the collections of each generation and how long they stopped the processes, and the other stops.</summary>
public sealed record GcFigures(IReadOnlyList<GcPause> Stops)
{
    public IReadOnlyList<GcPause> Pauses => Stops.Where(p => p.Generation >= 0).ToList();

    public IReadOnlyList<GcPause> OtherStops => Stops.Where(p => p.Generation < 0).ToList();

    public int Gen0 => Pauses.Count(p => p.Generation == 0);

    public int Gen1 => Pauses.Count(p => p.Generation == 1);

    public int Gen2 => Pauses.Count(p => p.Generation >= 2);

    public int Collections => Pauses.Count;

    public double PausedMs => Pauses.Sum(p => p.Ms);

    public double LongestMs => Pauses.Count == 0 ? 0 : Pauses.Max(p => p.Ms);
}

/// <summary>
/// Watches one process's stops live, over the runtime's diagnostics port (an EventPipe session with only the GC
/// events): each time the runtime stopped the process, for a collection or otherwise, from suspending its threads to
/// resuming them. At a thousand recorders these stops are what puts chunks over 50 ms, on a node or in the client that
/// times them, so every step prints both.
/// </summary>
public sealed class ProcessGc : IDisposable
{
    private readonly EventPipeSession _session;
    private readonly Thread _reader;
    private readonly Lock _lock = new();
    private readonly List<GcPause> _pauses = [];

    private ProcessGc(EventPipeSession session)
    {
        _session = session;
        var source = new EventPipeEventSource(session.EventStream);
        DateTime? suspended = null;
        var generation = -1;
        source.Clr.GCSuspendEEStart += e => (suspended, generation) = (e.TimeStamp, -1);
        source.Clr.GCStart += e => generation = e.Depth;
        source.Clr.GCRestartEEStop += e =>
        {
            if (suspended is { } at)
            {
                lock (_lock)
                {
                    _pauses.Add(new GcPause(at, generation, (e.TimeStamp - at).TotalMilliseconds));
                }
            }
            suspended = null;
        };
        _reader = new Thread(() => source.Process()) { IsBackground = true, Name = "GC events" };
        _reader.Start();
    }

    public static ProcessGc Watch(int processId) => new(new DiagnosticsClient(processId).StartEventPipeSession(
        new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, (long)ClrTraceEventParser.Keywords.GC),
        requestRundown: false));

    /// <summary>The stops that began between the two times.</summary>
    public IReadOnlyList<GcPause> Between(DateTime from, DateTime to)
    {
        lock (_lock)
        {
            return _pauses.Where(p => p.At >= from && p.At < to).ToList();
        }
    }

    public void Dispose()
    {
        try
        {
            _session.Stop();
        }
        catch (ServerNotAvailableException)
        {
            // the process has already gone
        }
        _reader.Join(TimeSpan.FromSeconds(5));
        _session.Dispose();
    }
}
