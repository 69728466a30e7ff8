using System.Collections.Concurrent;

namespace Crowd.Server.Features.Recording;

/// <summary>
/// Arrays of one length that are given back and handed out again, kept up to <paramref name="maxKept"/> at a time.
/// Arrays of any other length are allocated and left to the GC.
/// </summary>
/// <remarks>
/// Unlike a pool from <c>ArrayPool.Create</c>, which tracks a fixed number of arrays of each size, this keeps every array
/// given back while fewer than <paramref name="maxKept"/> wait. With more take segments in use than it tracked (4,096),
/// that pool kept allocating segments at a thousand recorders, and each lived in a take long enough to be copied by the
/// next collection.
/// </remarks>
public sealed class ReusedArrays<T>(int length, int maxKept)
{
    private readonly ConcurrentQueue<T[]> _free = new();

    public T[] Rent(int requested) => requested == length && _free.TryDequeue(out var array) ? array : new T[requested];

    /// <summary>Gives back an array once nothing reads or writes it any more.</summary>
    public void Return(T[]? array)
    {
        if (array?.Length == length && _free.Count < maxKept)
        {
            _free.Enqueue(array);
        }
    }
}
