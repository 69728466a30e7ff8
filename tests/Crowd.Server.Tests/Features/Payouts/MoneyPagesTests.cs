using System.Net;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Tests.Infrastructure;
using Hangfire;
using Hangfire.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.Payouts;

public sealed class MoneyPagesTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    private readonly FakeTime _time = new();

    [Fact]
    public async Task AContributorSeesHoursRateEarnedPendingAndTheNextPayoutAndCanAddABankAccount()
    {
        var contributor = await app.CreateUserAsync(Roles.Contributor);
        await app.WithDbAsync(async db =>
        {
            var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
            await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), contributor.Id, job.Id, 90 * 60_000 + 1, _time);
        });
        using var client = await app.SignedInClientAsync(contributor.Email!);

        var html = WebUtility.HtmlDecode(await client.GetPageAsync("/Earnings", "en"));
        html.ShouldContain("Your earnings");
        html.ShouldContain("45.01 CNY"); // 1.5 h and 1 ms at 30.00, rounded up to the fen
        html.ShouldContain("1.50");
        html.ShouldContain("30.00 CNY");
        html.ShouldContain("Next payout");
        html.ShouldContain("Add a payout method");

        var (status, saved) = await client.SubmitToAsync("/Earnings", "/Earnings?handler=Bank",
            new Dictionary<string, string> { ["Bank.PayeeName"] = "Wang Fang", ["Bank.AccountReference"] = "6222 0000 1111 2222" });
        status.ShouldBe(HttpStatusCode.OK);
        saved.ShouldContain("Payouts go to 6222 0000 1111 2222.");

        var (_, refused) = await client.SubmitToAsync("/Earnings", "/Earnings?handler=Bank",
            new Dictionary<string, string> { ["Bank.PayeeName"] = "", ["Bank.AccountReference"] = "1" });
        refused.ShouldContain("Enter the account holder's name, as the bank knows it.");
    }

    [Fact]
    public async Task TheEarningsPageSpeaksChinese()
    {
        var contributor = await app.CreateUserAsync(Roles.Contributor);
        using var client = await app.SignedInClientAsync(contributor.Email!);

        var html = WebUtility.HtmlDecode(await client.GetPageAsync("/Earnings", "zh-Hans"));

        html.ShouldContain("我的收入");
        html.ShouldContain("收款方式");
    }

    [Fact]
    public async Task ARequesterSeesEscrowSpentFeesRemainingHoursAndThePauseNotice()
    {
        var org = await app.WithDbAsync(db => MoneyWorld.RequesterAsync(db));
        var requester = await app.CreateUserAsync(Roles.Requester, organisationId: org);
        var jobId = await app.WithDbAsync(async db =>
        {
            var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000, organisationId: org);
            db.Add(new JobBudget { JobId = job.Id, TargetHours = 10, PlatformFeeBp = 1000, UpdatedAt = _time.GetUtcNow() });
            await db.SaveChangesAsync();
            await MoneyWorld.FundAsync(db, job.Id, 6_600);
            await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), Guid.NewGuid(), job.Id, 3_600_000, _time); // 3,000 + 300 fee
            await JobFunding.CheckNextHourAsync(db, job.Id, 2, _time);
            return job.Id;
        });
        using var client = await app.SignedInClientAsync(requester.Email!);

        var html = WebUtility.HtmlDecode(await client.GetPageAsync("/Escrow/Spend", "en"));

        html.ShouldContain("<td data-testid=\"budget\">330.00 CNY</td>"); // 10 h × 30.00 + 10 %
        html.ShouldContain("<td data-testid=\"spent\">33.00 CNY</td>"); // one hour's pay and its fee
        html.ShouldContain("<td>3.00 CNY</td>"); // the platform fee, disclosed
        html.ShouldContain("<td data-testid=\"remaining-hours\">1</td>");
        html.ShouldContain("<td data-testid=\"lowest-rate\">30.00 CNY</td>");
        html.ShouldContain(JobFunding.PausedMessage);
        html.ShouldContain($"data-testid=\"job-{jobId}\"");
    }

    [Fact]
    public async Task AnAdminRunsPayoutsDownloadsTheBatchMarksItSentAndConfirmsIt()
    {
        var admin = await app.CreateUserAsync(Roles.Admin);
        var contributor = await app.WithDbAsync(async db =>
        {
            var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
            var c = await MoneyWorld.ContributorWithBankAccountAsync(db, "Zhao Lei");
            await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), c, job.Id, 3_600_000, _time);
            return c;
        });
        using var client = await app.SignedInClientAsync(admin.Email!);

        var (_, ran) = await client.SubmitToAsync("/Payouts/Batches", "/Payouts/Batches?handler=Run", new Dictionary<string, string>());
        ran.ShouldContain("payouts created");
        var (payout, batch) = await app.WithDbAsync(async db =>
        {
            var p = await db.Set<Payout>().SingleAsync(x => x.ContributorId == contributor);
            return (p, p.BatchId!.Value);
        });
        var csv = await client.GetPageAsync($"/Payouts/Batches?handler=Csv&batch={batch}");
        csv.ShouldContain($"Zhao Lei,6222 0000 {contributor.ToString("N")[..8]},30.00,CNY,{payout.Id:N}");

        (await client.SubmitToAsync("/Payouts/Batches", $"/Payouts/Batches?handler=Sent&batch={batch}", new Dictionary<string, string>())).Html
            .ShouldContain("Batch marked sent.");
        (await client.SubmitToAsync("/Payouts/Batches", $"/Payouts/Batches?handler=ConfirmAll&batch={batch}", new Dictionary<string, string>())).Html
            .ShouldContain("lines confirmed paid.");
        (await app.WithDbAsync(db => db.Set<Payout>().SingleAsync(x => x.Id == payout.Id))).State.ShouldBe(PayoutState.Settled);
        await app.WithDbAsync(MoneyWorld.LedgerIsSoundAsync);
    }

    [Fact]
    public async Task AnAdminRecordingATransferInTheWrongCurrencyIsToldWhichCurrencyToUse()
    {
        var admin = await app.CreateUserAsync(Roles.Admin);
        var jobId = await app.WithDbAsync(async db => (await MoneyWorld.JobAsync(db, currency: "CNY")).Id);
        using var client = await app.SignedInClientAsync(admin.Email!);

        var (_, wrong) = await client.SubmitToAsync("/Escrow/Fund", "/Escrow/Fund",
            new Dictionary<string, string> { ["JobId"] = jobId.ToString(), ["Amount"] = "100.00", ["Currency"] = "USD", ["Reference"] = "BOC-1" });
        wrong.ShouldContain("This job is paid in CNY; record the transfer in CNY.");

        var (_, right) = await client.SubmitToAsync("/Escrow/Fund", "/Escrow/Fund",
            new Dictionary<string, string> { ["JobId"] = jobId.ToString(), ["Amount"] = "100.00", ["Currency"] = "CNY", ["Reference"] = "BOC-1" });
        right.ShouldContain("Recorded. The job's escrow now holds 100.00 CNY.");
    }

    [Fact]
    public void TheInProcessTestServerLeavesPayoutSchedulingToTheTestsThatNeedIt()
    {
        var storage = app.Services.GetRequiredService<JobStorage>();
        using var connection = storage.GetConnection();

        storage.GetMonitoringApi().Servers().ShouldBeEmpty("no job server runs with Crowd:Scheduler:Enabled=false");
        connection.GetRecurringJobs().ShouldBeEmpty("and the payout schedule is not registered from it");
    }

    [Fact]
    public async Task MoneyPagesAreOnlyForTheirRoles()
    {
        var contributor = await app.CreateUserAsync(Roles.Contributor);
        using var client = await app.SignedInClientAsync(contributor.Email!);

        (await client.GetAsync(new Uri("/Payouts/Batches", UriKind.Relative))).StatusCode.ShouldBeOneOf(HttpStatusCode.Forbidden, HttpStatusCode.Redirect, HttpStatusCode.NotFound);
        (await client.GetAsync(new Uri("/Escrow/Fund", UriKind.Relative))).StatusCode.ShouldBeOneOf(HttpStatusCode.Forbidden, HttpStatusCode.Redirect, HttpStatusCode.NotFound);
    }
}
