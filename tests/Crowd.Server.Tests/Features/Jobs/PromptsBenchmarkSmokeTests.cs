extern alias benchmarks;

using benchmarks::Crowd.Benchmarks;
using Crowd.Server.Tests.Infrastructure;

namespace Crowd.Server.Tests.Features.Jobs;

/// <summary>The prompts benchmark, small: a real server stores every uploaded prompt and then replaces every one.</summary>
public sealed class PromptsBenchmarkSmokeTests
{
    [Fact]
    public async Task ThePromptsBenchmarkStoresAndReplacesEveryPromptAndReportsItsThroughput()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        var output = new StringWriter();

        var result = await PromptsBenchmark.RunAsync(connectionString, count: 2_000, output);

        result.Stored.ShouldBe(2_000, output.ToString());
        result.Replaced.ShouldBe(2_000);
        output.ToString().ShouldContain("prompts/s");
    }
}
