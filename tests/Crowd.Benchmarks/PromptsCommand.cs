using System.Globalization;

namespace Crowd.Benchmarks;

/// <summary><c>prompts [count=100000]</c> against a real server process on a throw-away PostgreSQL cluster; fails past the 15 s target for the upload.</summary>
internal static class PromptsCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        var (cluster, connectionString) = await BenchDatabase.StartAsync();
        await using var _ = cluster;
        var result = await PromptsBenchmark.RunAsync(connectionString, count, Console.Out);
        return result.Stored == count && result.Replaced == count && result.Upload < TimeSpan.FromSeconds(15) ? 0 : 1;
    }
}
