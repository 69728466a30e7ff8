namespace Crowd.Server.Tests.Infrastructure;

/// <summary>
/// Waits for what another thread or process does on its own time (a job server picking work up, a node noticing a
/// closed socket, a server process's scheduled run): the condition is polled until it holds or the deadline passes.
/// A loaded machine makes the wait longer, never the outcome different.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(100);

    /// <summary>Returns once <paramref name="condition"/> holds; throws, naming <paramref name="what"/>, once <paramref name="within"/> has passed.</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {within.TotalSeconds:0} s for {what}");
            }
            await Task.Delay(s_poll);
        }
    }
}
