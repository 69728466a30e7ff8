using System.Globalization;

namespace Crowd.Benchmarks;

/// <summary><c>payouts [contributors=100000]</c> on a throw-away PostgreSQL cluster; fails past the 30 s target.</summary>
internal static class PayoutCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var contributors = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        var (cluster, connectionString) = await BenchDatabase.StartAsync();
        await using var _ = cluster;
        var result = await PayoutBenchmark.RunAsync(connectionString, contributors, Console.Out);
        return result.Reconciles && result.Elapsed < TimeSpan.FromSeconds(30) ? 0 : 1;
    }
}
