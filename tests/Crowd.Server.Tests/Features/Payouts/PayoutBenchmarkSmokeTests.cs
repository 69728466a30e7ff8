extern alias benchmarks;

using benchmarks::Crowd.Benchmarks;
using Crowd.Server.Tests.Infrastructure;

namespace Crowd.Server.Tests.Features.Payouts;

/// <summary>The payout benchmark, small: it still accrues, pays out and settles everyone, and the ledger reconciles.</summary>
public sealed class PayoutBenchmarkSmokeTests
{
    [Fact]
    public async Task ThePayoutBenchmarkPaysEveryContributorAndTheLedgerReconciles()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        var output = new StringWriter();

        var result = await PayoutBenchmark.RunAsync(connectionString, contributors: 300, output);

        result.Reconciles.ShouldBeTrue(output.ToString());
        result.Settled.ShouldBe(300);
        output.ToString().ShouldContain("contributors/s");
    }
}
