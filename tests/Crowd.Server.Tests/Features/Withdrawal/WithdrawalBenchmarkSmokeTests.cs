extern alias benchmarks;

using benchmarks::Crowd.Benchmarks;
using Crowd.Server.Tests.Infrastructure;

namespace Crowd.Server.Tests.Features.Withdrawal;

/// <summary>The withdrawal benchmark, small: every exported clip it withdraws becomes unreadable, and the times are reported.</summary>
public sealed class WithdrawalBenchmarkSmokeTests : IDisposable
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), "crowd-withdrawal-smoke-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_work))
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    [Fact]
    public async Task TheWithdrawalBenchmarkMakesEveryExportedClipUnreadableAndReportsTheTimes()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        var output = new StringWriter();

        var result = await WithdrawalBenchmark.RunAsync(connectionString, _work, clips: 5, output);

        result.Unreadable.ShouldBe(5);
        output.ToString().ShouldContain("median");
    }
}
