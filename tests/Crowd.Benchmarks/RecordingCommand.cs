using System.Globalization;

namespace Crowd.Benchmarks;

/// <summary>
/// <c>recording [--recorders 250,500,1000,2000] [--seconds 20] [--nodes 1|2] [--threads 4] [--take-seconds 10] [--warm-up 60] [--aligned-takes]</c>:
/// real server processes (two find each other through a throw-away Redis) on a throw-away PostgreSQL.
/// </summary>
internal static class RecordingCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name, string fallback)
        {
            var at = Array.IndexOf(args, "--" + name);
            return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
        }
        var options = new RecordingBenchmarkOptions(
            Recorders: Arg("recorders", "250,500,1000,2000").Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture)).ToArray(),
            Seconds: int.Parse(Arg("seconds", "20"), CultureInfo.InvariantCulture),
            Nodes: int.Parse(Arg("nodes", "1"), CultureInfo.InvariantCulture),
            Threads: int.Parse(Arg("threads", "4"), CultureInfo.InvariantCulture),
            TakeSeconds: int.Parse(Arg("take-seconds", "10"), CultureInfo.InvariantCulture),
            ServerWarmupSeconds: int.Parse(Arg("warm-up", "60"), CultureInfo.InvariantCulture),
            AlignedTakes: args.Contains("--aligned-takes"));
        var results = await RecordingBenchmark.RunAsync(options, Console.Out);
        return results.All(r => r.Errors == 0) ? 0 : 1;
    }
}
