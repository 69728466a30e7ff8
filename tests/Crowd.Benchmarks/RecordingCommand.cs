using System.Globalization;

namespace Crowd.Benchmarks;

/// <summary>
/// <c>recording [--recorders 250,500,1000,2000] [--seconds 20] [--nodes 1|2] [--threads 4] [--take-seconds 10] [--warm-up 60] [--aligned-takes] [--node-env NAME=VALUE,…]</c>:
/// real server processes (two find each other through a throw-away Redis) on a throw-away PostgreSQL. <c>--node-env</c>
/// sets environment variables of the server processes only (say <c>DOTNET_gcServer=0</c>), to compare runtime settings
/// without changing the client's.
/// </summary>
internal static class RecordingCommand
{
    private const string PoolVariable = "DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION";

    public static async Task<int> RunAsync(string[] args)
    {
        // The client holds a receive buffer for each of its thousand connections at once, more than the shared pool keeps
        // (32 a core), so every receive allocated a new one: 40 % of what the client allocated, and its collections put
        // frames over 50 ms. Set before anything rents an array; the servers keep the runtime's default.
        Environment.SetEnvironmentVariable(PoolVariable, "4096");
        string Arg(string name, string fallback)
        {
            var at = Array.IndexOf(args, "--" + name);
            return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
        }
        var nodeEnvironment = NodeEnvironment(Arg("node-env", ""));
        nodeEnvironment.TryAdd(PoolVariable, ""); // not inherited by the servers, unless --node-env sets it for them
        var options = new RecordingBenchmarkOptions(
            Recorders: Arg("recorders", "250,500,1000,2000").Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture)).ToArray(),
            Seconds: int.Parse(Arg("seconds", "20"), CultureInfo.InvariantCulture),
            Nodes: int.Parse(Arg("nodes", "1"), CultureInfo.InvariantCulture),
            Threads: int.Parse(Arg("threads", "4"), CultureInfo.InvariantCulture),
            TakeSeconds: int.Parse(Arg("take-seconds", "10"), CultureInfo.InvariantCulture),
            ServerWarmupSeconds: int.Parse(Arg("warm-up", "60"), CultureInfo.InvariantCulture),
            AlignedTakes: args.Contains("--aligned-takes"),
            NodeEnvironment: nodeEnvironment);
        var results = await RecordingBenchmark.RunAsync(options, Console.Out);
        return results.All(r => r.Errors == 0) ? 0 : 1;
    }

    private static Dictionary<string, string> NodeEnvironment(string pairs) =>
        pairs.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(pair => pair.Split('=', 2)).ToDictionary(
            pair => pair is [{ Length: > 0 } name, _] ? name : throw new ArgumentException($"--node-env takes NAME=VALUE pairs separated by commas, not \"{string.Join('=', pair)}\"."),
            pair => pair[1]);
}
