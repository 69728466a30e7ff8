using Crowd.Server.Features.Recording.Sessions;

namespace Crowd.Server.Features.Recording.Streaming;

/// <summary>
/// The PCM arrays of received chunks, reused: a chunk's bytes are copied into its take's buffer as soon as the session has
/// checked them, so an array is free again a moment after it was read (a stream holds at most its buffer's 20 chunks).
/// </summary>
/// <remarks>
/// Only arrays of exactly one chunk (the <see cref="WorkerSessionGrain.ChunkMs"/> the session asks every client for) are
/// kept; anything else is allocated and left to the GC. A thousand recorders send ten thousand chunks a second, and a
/// new array for each was a third of everything the node allocated: every gen0 collection it caused paused all the
/// streams for 25 ms or more.
/// </remarks>
public static class ChunkBuffers
{
    public const int ChunkBytes = WorkerSessionGrain.SampleRate / 1000 * WorkerSessionGrain.ChunkMs * sizeof(short);

    /// <summary>About 13 MB: a node at a thousand recorders has a few hundred chunks in flight; past this, arrays are left to the GC.</summary>
    public const int MaxKept = 4096;

    /// <summary>The node's one pool, which the MessagePack protocol reads chunks into and the hub gives them back to.</summary>
    public static readonly ReusedArrays<byte> Shared = new(ChunkBytes, MaxKept);
}
