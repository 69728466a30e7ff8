using System.Collections.Concurrent;

namespace Crowd.Server.Features.Recording.Sessions;

/// <summary>The worker sessions live on this node. Their durable state is in worker_sessions; this is the rest.</summary>
public sealed class SessionRegistry
{
    private readonly ConcurrentDictionary<Guid, LiveSession> _sessions = new();

    /// <summary>Names this process in worker_sessions.node_id, so a session's row says which node holds it.</summary>
    public string NodeId { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    public int Count => _sessions.Count;

    public LiveSession GetOrAdd(Guid id, Func<LiveSession> create) => _sessions.GetOrAdd(id, _ => create());

    public bool TryGet(Guid id, out LiveSession session) => _sessions.TryGetValue(id, out session!);

    public void Remove(LiveSession session) => _sessions.TryRemove(new KeyValuePair<Guid, LiveSession>(session.Id, session));

    public IReadOnlyCollection<LiveSession> Snapshot() => _sessions.Values.ToArray();
}
