using System.Globalization;

namespace Crowd.Benchmarks;

/// <summary><c>export [clips=10000] [seconds=3]</c> on a throw-away PostgreSQL cluster and data directory.</summary>
internal static class ExportCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var clips = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
        var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        var (cluster, connectionString) = await BenchDatabase.StartAsync();
        await using var _ = cluster;
        var work = Path.Combine(Path.GetTempPath(), "crowd-export-bench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var result = await ExportBenchmark.RunAsync(connectionString, work, clips, seconds, Console.Out);
            return result.Clips == clips ? 0 : 1;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
