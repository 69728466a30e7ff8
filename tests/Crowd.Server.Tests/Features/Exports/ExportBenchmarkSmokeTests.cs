extern alias benchmarks;

using benchmarks::Crowd.Benchmarks;
using Crowd.Server.Tests.Infrastructure;

namespace Crowd.Server.Tests.Features.Exports;

/// <summary>The export benchmark, small: it still runs end to end and every clip comes back intact.</summary>
public sealed class ExportBenchmarkSmokeTests : IDisposable
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), "crowd-export-smoke-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_work))
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    [Fact]
    public async Task TheExportBenchmarkExportsEveryGeneratedClipAndReportsItsThroughput()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        var output = new StringWriter();

        var result = await ExportBenchmark.RunAsync(connectionString, _work, clips: 200, clipSeconds: 1, output);

        result.Clips.ShouldBe(200);
        result.Bytes.ShouldBe(200L * (44 + 32_000));
        Directory.GetFiles(Path.Combine(_work, "out", "clips")).Length.ShouldBe(200);
        output.ToString().ShouldContain("clips/s");
        output.ToString().ShouldContain("MB/s");
    }
}
