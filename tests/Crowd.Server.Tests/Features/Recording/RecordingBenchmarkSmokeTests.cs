extern alias benchmarks;

using benchmarks::Crowd.Benchmarks;
using Xunit.Abstractions;

namespace Crowd.Server.Tests.Features.Recording;

/// <summary>The recording load benchmark, small: 20 recorders for 5 seconds against a real server, every frame back, no error.</summary>
public sealed class RecordingBenchmarkSmokeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TwentyRecordersForFiveSecondsGetEveryFrameBackWithoutAnError()
    {
        using var log = new StringWriter();

        var results = await RecordingBenchmark.RunAsync(new RecordingBenchmarkOptions([20], Seconds: 5, Nodes: 1, Threads: 2, WarmupSeconds: 1), log);

        output.WriteLine(log.ToString());
        var step = results.ShouldHaveSingleItem();
        step.Errors.ShouldBe(0, log.ToString());
        step.ChunksSent.ShouldBeGreaterThanOrEqualTo(20, "every recorder streamed (how close to real time it kept is the benchmark's figure, not this test's)");
        step.DeliveredPercent.ShouldBe(100, log.ToString());
        step.P50Ms.ShouldBeGreaterThan(0);
        step.TakeStartP50Ms.ShouldBeGreaterThan(0, "every recorder started a take, and its wait is measured");
        step.Windows.ShouldBe(50, "late chunks are located in the measured 5 s, 100 ms at a time");
        step.LateWindows.ShouldBeLessThanOrEqualTo(step.Windows);
        step.ServerGc.ShouldNotBeNull("the node's collections are watched over its diagnostics port");
        step.ClientGc.ShouldNotBeNull("and so are the client's own, over this process's port");
    }
}
