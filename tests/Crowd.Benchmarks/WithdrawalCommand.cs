using System.Globalization;

namespace Crowd.Benchmarks;

/// <summary><c>withdrawal [clips=21]</c> on a throw-away PostgreSQL cluster and data directory; fails past the 1 s target for the median.</summary>
internal static class WithdrawalCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var clips = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 21;
        var (cluster, connectionString) = await BenchDatabase.StartAsync();
        await using var _ = cluster;
        var work = Path.Combine(Path.GetTempPath(), "crowd-withdrawal-bench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var result = await WithdrawalBenchmark.RunAsync(connectionString, work, clips, Console.Out);
            return result.Unreadable == clips && result.MedianMs < 1_000 ? 0 : 1;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
