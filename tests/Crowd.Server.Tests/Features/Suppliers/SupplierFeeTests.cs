using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Suppliers;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Suppliers;

public sealed class SupplierFeeTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(MoneyWorld.ClockStart);
    private string _db = "";

    public async Task InitializeAsync() => _db = await TestPostgres.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task AContributorIsPaidExactlyTheSameWithAndWithoutASupplierFeeOnTheJob()
    {
        await using var db = MoneyWorld.Open(_db);
        var supplier = await SupplierWorld.SupplierAsync(db);
        var withoutFee = await SupplierWorld.JobAsync(db, supplierFeeBp: 0, rate: 3333);
        var withFee = await SupplierWorld.JobAsync(db, supplierFeeBp: 1500, rate: 3333);
        var a = await MoneyWorld.UserAsync(db, "A");
        var b = await MoneyWorld.UserAsync(db, "B");
        await SupplierWorld.AttributeAsync(db, a, supplier, _time.GetUtcNow());
        await SupplierWorld.AttributeAsync(db, b, supplier, _time.GetUtcNow());
        var checkpoints = new long[] { 61_000, 7 * 60_000 + 13, 33 * 60_000 + 999, 3_600_000 + 1 };

        foreach (var (person, job) in new[] { (a, withoutFee), (b, withFee) })
        {
            var session = Guid.CreateVersion7();
            foreach (var ms in checkpoints)
            {
                await EarningsAccrual.AccrueAsync(db, session, person, job, ms, _time);
            }
        }

        var payA = (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(a, "CNY"))).Minor;
        var payB = (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(b, "CNY"))).Minor;
        payA.ShouldBe(PayCalculator.PayForActiveTime(3_600_001, 3333));
        payB.ShouldBe(payA, "the supplier fee is charged on top and never comes out of pay");
        (await LedgerQueries.BalanceAsync(db, AccountRef.SupplierFee(supplier, "CNY"))).Minor.ShouldBe(PayCalculator.Fee(payB, 1500));
        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(withFee, "CNY"))).Minor
            .ShouldBe(100_000_000 - payB - PayCalculator.Fee(payB, 1000) - PayCalculator.Fee(payB, 1500));
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task UnattributedWorkCarriesNoSupplierFeeAndItsReserveStaysInEscrow()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await SupplierWorld.JobAsync(db, supplierFeeBp: 1500, rate: 4000);
        var person = await MoneyWorld.UserAsync(db);

        await SupplierWorld.SessionAsync(db, _time, person, job, 60);

        var row = await db.Set<EarningsAccrualRow>().SingleAsync(r => r.JobId == job);
        (row.SupplierOrganisationId, row.SupplierFeeMinor).ShouldBe((null, 0L));
        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job, "CNY"))).Minor.ShouldBe(100_000_000 - 4000 - 400);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task TheFeeGoesToTheSupplierTheContributorIsAttributedToNotToTheJob()
    {
        await using var db = MoneyWorld.Open(_db);
        var first = await SupplierWorld.SupplierAsync(db, "First");
        var second = await SupplierWorld.SupplierAsync(db, "Second");
        var job = await SupplierWorld.JobAsync(db, supplierFeeBp: 1000, rate: 3000);
        var a = await MoneyWorld.UserAsync(db, "A");
        var b = await MoneyWorld.UserAsync(db, "B");
        await SupplierWorld.AttributeAsync(db, a, first, _time.GetUtcNow());
        await SupplierWorld.AttributeAsync(db, b, second, _time.GetUtcNow());

        await SupplierWorld.SessionAsync(db, _time, a, job, 60);
        await SupplierWorld.SessionAsync(db, _time, b, job, 120);

        (await LedgerQueries.BalanceAsync(db, AccountRef.SupplierFee(first, "CNY"))).Minor.ShouldBe(300);
        (await LedgerQueries.BalanceAsync(db, AccountRef.SupplierFee(second, "CNY"))).Minor.ShouldBe(600);
    }

    [Fact]
    public async Task DetachingStopsTheFeeAtOnceEvenMidSessionAndLaterWorkIsUnattributed()
    {
        await using var db = MoneyWorld.Open(_db);
        var supplier = await SupplierWorld.SupplierAsync(db);
        var job = await SupplierWorld.JobAsync(db, supplierFeeBp: 1000, rate: 3000);
        var person = await MoneyWorld.UserAsync(db);
        await SupplierWorld.AttributeAsync(db, person, supplier, _time.GetUtcNow());
        var session = Guid.CreateVersion7();
        await EarningsAccrual.AccrueAsync(db, session, person, job, 3_600_000, _time);

        await db.Set<SupplierAttribution>().Where(a => a.ContributorId == person)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.DetachedAt, _time.GetUtcNow()));
        await EarningsAccrual.AccrueAsync(db, session, person, job, 2 * 3_600_000, _time);
        // Attributed again mid-session: this session's fee does not catch up for the time in between.
        await SupplierWorld.AttributeAsync(db, person, supplier, _time.GetUtcNow());
        await EarningsAccrual.AccrueAsync(db, session, person, job, 3 * 3_600_000, _time);
        await db.Set<SupplierAttribution>().Where(a => a.ContributorId == person && a.DetachedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.DetachedAt, _time.GetUtcNow()));
        var later = await SupplierWorld.SessionAsync(db, _time, person, job, 60);

        (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(person, "CNY"))).Minor.ShouldBe(4 * 3000);
        (await LedgerQueries.BalanceAsync(db, AccountRef.SupplierFee(supplier, "CNY"))).Minor.ShouldBe(300, "only the first, attributed hour");
        (await db.Set<EarningsAccrualRow>().SingleAsync(r => r.SessionId == later.SessionId)).SupplierOrganisationId.ShouldBeNull();
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task ASuspendedSupplierEarnsNoFeeAndItsContributorsAreStillPaidInFull()
    {
        await using var db = MoneyWorld.Open(_db);
        var supplier = await SupplierWorld.SupplierAsync(db);
        var job = await SupplierWorld.JobAsync(db, supplierFeeBp: 1000, rate: 3000);
        var person = await MoneyWorld.UserAsync(db);
        await SupplierWorld.AttributeAsync(db, person, supplier, _time.GetUtcNow());
        db.Add(new SupplierSuspension
        {
            Id = Guid.CreateVersion7(), OrganisationId = supplier, Reason = "pressed students", SuspendedAt = _time.GetUtcNow(), SuspendedByUserId = Guid.NewGuid(),
        });
        await db.SaveChangesAsync();

        await SupplierWorld.SessionAsync(db, _time, person, job, 60);

        (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(person, "CNY"))).Minor.ShouldBe(3000);
        (await LedgerQueries.BalanceAsync(db, AccountRef.SupplierFee(supplier, "CNY"))).Minor.ShouldBe(0);
    }
}
