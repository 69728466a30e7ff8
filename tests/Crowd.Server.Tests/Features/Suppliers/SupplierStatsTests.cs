using Crowd.Server.Features.Suppliers;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Suppliers;

/// <summary>What a supplier can ask for, and the ways it could try to single someone out by comparing two answers.</summary>
public sealed class SupplierStatsTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_march = new(2026, 3, 10, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset s_april = new(2026, 4, 10, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset s_may = new(2026, 5, 10, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(s_march);
    private string _db = "";

    public async Task InitializeAsync() => _db = await TestPostgres.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private SupplierStats Stats(CrowdDb db) => new(db, _time);

    private static async Task<SupplierStatsResponse> FiguresAsync(SupplierStats stats, Guid supplier, Guid? job = null, string? month = null)
    {
        var answer = await stats.CellAsync(supplier, job, month, "CNY", default);
        answer.Refusal.ShouldBe(StatsRefusal.None);
        return answer.Value!;
    }

    private static async Task SuppressedAsync(SupplierStats stats, Guid supplier, Guid? job = null, string? month = null) =>
        (await stats.CellAsync(supplier, job, month, "CNY", default)).Refusal.ShouldBe(StatsRefusal.Suppressed);

    [Fact]
    public async Task ASupplierWithFourAttributedContributorsSeesNoNumbersAndWithFiveSeesAggregates()
    {
        await using var db = MoneyWorld.Open(_db);
        var four = await SupplierWorld.SupplierAsync(db, "Four");
        var five = await SupplierWorld.SupplierAsync(db, "Five");
        var job = await SupplierWorld.JobAsync(db, rate: 3000);
        foreach (var (supplier, count) in new[] { (four, 4), (five, 5) })
        {
            foreach (var person in await SupplierWorld.PeopleAsync(db, supplier, count, s_march))
            {
                await SupplierWorld.SessionAsync(db, _time, person, job, 30);
            }
        }
        _time.SetUtcNow(s_april);
        var stats = Stats(db);

        foreach (var (j, m) in new (Guid?, string?)[] { (null, null), (null, "2026-03"), (job, null), (job, "2026-03") })
        {
            await SuppressedAsync(stats, four, j, m);
        }
        (await stats.SignupsAsync(four, "2026-03", default)).Refusal.ShouldBe(StatsRefusal.Suppressed);

        var figures = await FiguresAsync(stats, five, month: "2026-03");
        (figures.Contributors, figures.HoursRecorded, figures.PayEarned.Minor).ShouldBe((5, 2.5m, 5 * 1500L));
        (await FiguresAsync(stats, five, job)).PayEarned.Minor.ShouldBe(5 * 1500L);
        (await stats.SignupsAsync(five, "2026-03", default)).Value!.SignedUp.ShouldBe(5);
    }

    [Fact]
    public async Task AllJobsMinusOneJobCannotRevealTheOnePersonOnAnotherJob()
    {
        await using var db = MoneyWorld.Open(_db);
        var supplier = await SupplierWorld.SupplierAsync(db);
        var common = await SupplierWorld.JobAsync(db);
        var rare = await SupplierWorld.JobAsync(db);
        foreach (var person in await SupplierWorld.PeopleAsync(db, supplier, 5, s_march))
        {
            await SupplierWorld.SessionAsync(db, _time, person, common, 60);
        }
        var victim = (await SupplierWorld.PeopleAsync(db, supplier, 1, s_march))[0];
        await SupplierWorld.SessionAsync(db, _time, victim, rare, 47);
        _time.SetUtcNow(s_april);
        var stats = Stats(db);

        var all = await FiguresAsync(stats, supplier, month: "2026-03");
        all.Contributors.ShouldBe(6);
        await SuppressedAsync(stats, supplier, common, "2026-03");
        await SuppressedAsync(stats, supplier, common);
        await SuppressedAsync(stats, supplier, rare, "2026-03");
    }

    [Fact]
    public async Task AddingUpTwoJobsAndTakingThemFromAllJobsCannotRevealAThird()
    {
        await using var db = MoneyWorld.Open(_db);
        var supplier = await SupplierWorld.SupplierAsync(db);
        var a = await SupplierWorld.JobAsync(db);
        var b = await SupplierWorld.JobAsync(db);
        var c = await SupplierWorld.JobAsync(db);
        foreach (var (job, count) in new[] { (a, 5), (b, 7), (c, 1) })
        {
            foreach (var person in await SupplierWorld.PeopleAsync(db, supplier, count, s_march))
            {
                await SupplierWorld.SessionAsync(db, _time, person, job, 20);
            }
        }
        _time.SetUtcNow(s_april);
        var stats = Stats(db);

        var all = await FiguresAsync(stats, supplier, month: "2026-03");
        var b7 = await FiguresAsync(stats, supplier, b, "2026-03");
        await SuppressedAsync(stats, supplier, a, "2026-03");
        await SuppressedAsync(stats, supplier, c, "2026-03");
        (all.Contributors - b7.Contributors).ShouldBe(6, "what all jobs minus job B reveals is six people's, never one");
    }

    [Fact]
    public async Task AMonthAgainstAllTimeCannotRevealTheOnePersonWhoWorkedInAnotherMonth()
    {
        await using var db = MoneyWorld.Open(_db);
        var supplier = await SupplierWorld.SupplierAsync(db);
        var job = await SupplierWorld.JobAsync(db);
        var people = await SupplierWorld.PeopleAsync(db, supplier, 5, s_march);
        foreach (var person in people)
        {
            await SupplierWorld.SessionAsync(db, _time, person, job, 60);
        }
        _time.SetUtcNow(s_april);
        await SupplierWorld.SessionAsync(db, _time, people[0], job, 45); // only one person works in April
        _time.SetUtcNow(s_may);
        var stats = Stats(db);

        var march = await FiguresAsync(stats, supplier, month: "2026-03");
        await SuppressedAsync(stats, supplier, month: "2026-04");
        var allTime = await FiguresAsync(stats, supplier);
        allTime.HoursRecorded.ShouldBe(march.HoursRecorded, "all time adds up only published months");
        allTime.PayEarned.ShouldBe(march.PayEarned);
        (await FiguresAsync(stats, supplier, job)).HoursRecorded.ShouldBe(march.HoursRecorded);
    }

    [Fact]
    public async Task AskingBeforeAndAfterOnePersonJoinsOrKeepsWorkingShowsTheSameFigures()
    {
        await using var db = MoneyWorld.Open(_db);
        var supplier = await SupplierWorld.SupplierAsync(db);
        var job = await SupplierWorld.JobAsync(db);
        var people = await SupplierWorld.PeopleAsync(db, supplier, 5, s_march);
        var sessions = new List<Guid>();
        foreach (var person in people)
        {
            sessions.Add((await SupplierWorld.SessionAsync(db, _time, person, job, 60)).SessionId);
        }
        _time.SetUtcNow(s_april);
        var stats = Stats(db);
        var before = await FiguresAsync(stats, supplier, month: "2026-03");
        var allBefore = await FiguresAsync(stats, supplier);
        var signupsBefore = (await stats.SignupsAsync(supplier, null, default)).Value!.SignedUp;

        // A March session keeps accruing in April, and a sixth person joins and works in April.
        await Crowd.Server.Features.Earnings.EarningsAccrual.AccrueAsync(db, sessions[0], people[0], job, 3 * 3_600_000, _time);
        var newcomer = (await SupplierWorld.PeopleAsync(db, supplier, 1, _time.GetUtcNow()))[0];
        await SupplierWorld.SessionAsync(db, _time, newcomer, job, 90);

        (await FiguresAsync(stats, supplier, month: "2026-03")).ShouldBe(before);
        (await FiguresAsync(stats, supplier)).ShouldBe(allBefore);
        (await stats.SignupsAsync(supplier, null, default)).Value!.SignedUp.ShouldBe(signupsBefore);
        _time.SetUtcNow(s_may);
        await SuppressedAsync(stats, supplier, month: "2026-04");
        (await FiguresAsync(stats, supplier)).ShouldBe(allBefore, "April, built from two people, is not added to all time");
        (await stats.SignupsAsync(supplier, null, default)).Value!.SignedUp.ShouldBe(signupsBefore);
    }

    [Fact]
    public async Task AskingBeforeAndAfterOnePersonDetachesShowsTheSameFiguresAndTheirLaterWorkIsNotCounted()
    {
        await using var db = MoneyWorld.Open(_db);
        var supplier = await SupplierWorld.SupplierAsync(db);
        var job = await SupplierWorld.JobAsync(db);
        var people = await SupplierWorld.PeopleAsync(db, supplier, 6, s_march);
        foreach (var person in people)
        {
            await SupplierWorld.SessionAsync(db, _time, person, job, 60);
        }
        _time.SetUtcNow(s_april);
        var stats = Stats(db);
        var before = await FiguresAsync(stats, supplier, month: "2026-03");

        await db.Set<SupplierAttribution>().Where(a => a.ContributorId == people[5])
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.DetachedAt, _time.GetUtcNow()));
        foreach (var person in people)
        {
            await SupplierWorld.SessionAsync(db, _time, person, job, 30);
        }
        _time.SetUtcNow(s_may);

        (await FiguresAsync(stats, supplier, month: "2026-03")).ShouldBe(before);
        var april = await FiguresAsync(stats, supplier, month: "2026-04");
        (april.Contributors, april.HoursRecorded).ShouldBe((5, 2.5m), "the detached person's April work is nobody's business of the supplier");
    }

    [Fact]
    public async Task APersonAloneInAnotherCurrencyIsNeverAddedToOrSubtractedFromTheOthers()
    {
        await using var db = MoneyWorld.Open(_db);
        var supplier = await SupplierWorld.SupplierAsync(db);
        var yuan = await SupplierWorld.JobAsync(db);
        var pounds = await SupplierWorld.JobAsync(db, currency: "GBP", region: "GB", rate: 1500);
        var people = await SupplierWorld.PeopleAsync(db, supplier, 5, s_march);
        foreach (var person in people)
        {
            await SupplierWorld.SessionAsync(db, _time, person, yuan, 60);
        }
        var victim = (await SupplierWorld.PeopleAsync(db, supplier, 1, s_march))[0];
        await SupplierWorld.SessionAsync(db, _time, victim, pounds, 60);
        _time.SetUtcNow(s_april);
        var stats = Stats(db);

        (await FiguresAsync(stats, supplier, month: "2026-03")).Contributors.ShouldBe(5);
        (await stats.CellAsync(supplier, null, "2026-03", "GBP", default)).Refusal.ShouldBe(StatsRefusal.Suppressed);
        (await stats.CellAsync(supplier, pounds, null, null, default)).Refusal.ShouldBe(StatsRefusal.Suppressed);
    }

    [Fact]
    public async Task TheMonthNowRunningAndMalformedMonthsAreRefusedAsInputNotAnsweredWithZero()
    {
        await using var db = MoneyWorld.Open(_db);
        var supplier = await SupplierWorld.SupplierAsync(db);
        var stats = Stats(db);

        var running = await stats.CellAsync(supplier, null, "2026-03", "CNY", default);
        running.Refusal.ShouldBe(StatsRefusal.Invalid);
        running.Error!.Message.ShouldContain("only after it has ended");
        (await stats.CellAsync(supplier, null, "March", "CNY", default)).Refusal.ShouldBe(StatsRefusal.Invalid);
        (await stats.CellAsync(supplier, null, null, null, default)).Error!.Field.ShouldBe("currency");
    }
}
