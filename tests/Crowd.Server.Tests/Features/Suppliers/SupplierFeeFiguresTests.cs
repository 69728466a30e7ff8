using Crowd.Server.Features.Suppliers;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Suppliers;

/// <summary>
/// A supplier's fee next to its figures, with every job's fee rate public: whether fee totals and rates together could
/// reveal a job that is suppressed because fewer than five people worked on it.
/// </summary>
public sealed class SupplierFeeFiguresTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_march = new(2026, 3, 10, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset s_april = new(2026, 4, 10, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(s_march);
    private string _db = "";

    public async Task InitializeAsync() => _db = await TestPostgres.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData(new[] { 500, 500 }, true)]
    [InlineData(new int[0], true)]
    [InlineData(new[] { 1000, 500 }, false)]
    [InlineData(new[] { 500, 500, 0 }, false)]
    public void TheFeeForAllJobsIsShownOnlyWhenTheJobsLeftOutShareOneRate(int[] suppressedRates, bool shown) =>
        FeeDisclosure.AllJobsFeeShowable(suppressedRates).ShouldBe(shown);

    [Fact]
    public async Task WhereTheJobsLeftOutPayDifferentRatesTheFeeForAllJobsWouldRevealTheSmallJobSoOnlyPublishedJobsShowTheirFee()
    {
        await using var db = MoneyWorld.Open(_db);
        var (supplier, a, c) = await MarchAsync(db, rateA: 1000, rateB: 500, rateC: 500);
        var stats = new SupplierStats(db, _time);

        var fees = await stats.FeesAsync(supplier, default);

        fees.Select(f => f.JobId).ShouldBe([SupplierStats.AllJobs, c], ignoreOrder: true, "A and B are suppressed");
        fees.Single(f => f.JobId == SupplierStats.AllJobs).Fee.ShouldBeNull();
        var published = fees.Single(f => f.JobId == c);
        (published.Fee!.Value.Minor, published.RateBp).ShouldBe((7 * 75L, 500), "7 × 15.00 CNY of pay at 5 %");
        SupplierStats.FeeTotals(fees).ShouldBe([new Crowd.Server.Infrastructure.Money.Money(7 * 75L, "CNY")]);

        // Why: the all-jobs fee with the all-jobs pay and the public rates solves for job A's pay, two people's earnings.
        var cells = await db.Set<SupplierStatCell>().AsNoTracking().Where(x => x.OrganisationId == supplier).ToListAsync();
        var all = cells.Single(x => x.JobId == SupplierStats.AllJobs);
        var shown = cells.Single(x => x.JobId == c);
        var (residualPay, residualFee) = (all.PayMinor - shown.PayMinor, all.SupplierFeeMinor - shown.SupplierFeeMinor);
        var payOnA = (residualFee - residualPay * 500 / 10_000m) / ((1000 - 500) / 10_000m);
        payOnA.ShouldBe(cells.Single(x => x.JobId == a).PayMinor, "the leak the rule closes");
        cells.Single(x => x.JobId == a).Published.ShouldBeFalse();
    }

    [Fact]
    public async Task WhereTheJobsLeftOutShareOneRateTheFeeForAllJobsAddsNothingAndIsShown()
    {
        await using var db = MoneyWorld.Open(_db);
        var (supplier, _, c) = await MarchAsync(db, rateA: 500, rateB: 500, rateC: 1000);

        var fees = await new SupplierStats(db, _time).FeesAsync(supplier, default);

        var all = fees.Single(f => f.JobId == SupplierStats.AllJobs).Fee!.Value;
        var residual = (all.Minor - fees.Single(f => f.JobId == c).Fee!.Value.Minor) / 100m;
        residual.ShouldBe((2 * 20m + 6 * 15m) * 0.05m, "5 % of the jobs left out together, whose pay is already the all-jobs pay less C's");
        SupplierStats.FeeTotals(fees).ShouldBe([all]);
    }

    /// <summary>
    /// March, then the clock in April: two people on job A (40 minutes each), suppressed; B (6 people, 30 minutes) is
    /// suppressed with it so that the jobs left out hold 8 people; C (7 people, 30 minutes) is published.
    /// </summary>
    private async Task<(Guid Supplier, Guid A, Guid C)> MarchAsync(CrowdDb db, int rateA, int rateB, int rateC)
    {
        var supplier = await SupplierWorld.SupplierAsync(db);
        var (a, b, c) = (await SupplierWorld.JobAsync(db, supplierFeeBp: rateA), await SupplierWorld.JobAsync(db, supplierFeeBp: rateB),
            await SupplierWorld.JobAsync(db, supplierFeeBp: rateC));
        await WorkAsync(db, supplier, a, people: 2, minutes: 40);
        await WorkAsync(db, supplier, b, people: 6, minutes: 30);
        await WorkAsync(db, supplier, c, people: 7, minutes: 30);
        _time.SetUtcNow(s_april);
        return (supplier, a, c);
    }

    private async Task WorkAsync(CrowdDb db, Guid supplier, Guid job, int people, int minutes)
    {
        foreach (var person in await SupplierWorld.PeopleAsync(db, supplier, people, s_march))
        {
            await SupplierWorld.SessionAsync(db, _time, person, job, minutes);
        }
    }
}
