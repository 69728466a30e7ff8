using System.Net;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Tests.Infrastructure;
using Crowd.Server.Features.Ledger;
using Hangfire;
using Hangfire.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Payouts;

public sealed class MoneyPagesTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    private readonly FakeTimeProvider _time = new(MoneyWorld.ClockStart);

    [Fact]
    public async Task AContributorSeesHoursRateEarnedAndPendingAndCanAddABankAccount()
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
        html.ShouldContain("Amounts under 1.00 CNY wait for a later payout.");
        html.ShouldNotContain("minor units");
        html.ShouldContain("Add a payout method");

        var (status, saved) = await client.SubmitToAsync("/Earnings", "/Earnings?handler=Bank",
            new Dictionary<string, string> { ["Bank.PayeeName"] = "Wang Fang", ["Bank.Kind"] = "BankCard", ["Bank.AccountReference"] = "6222 0000 1111 2222" });
        status.ShouldBe(HttpStatusCode.OK);
        saved.ShouldContain("Payouts go to Bank card •••• 2222 (Wang Fang).");

        var (_, refused) = await client.SubmitToAsync("/Earnings", "/Earnings?handler=Bank",
            new Dictionary<string, string> { ["Bank.PayeeName"] = "", ["Bank.Kind"] = "BankCard", ["Bank.AccountReference"] = "1" });
        refused.ShouldContain("Enter the account holder's name, as the bank knows it.");
        refused.ShouldContain("Enter the bank card number: 12 to 19 digits.");
    }

    [Fact]
    public async Task APayoutAccountNumberIsStoredEncryptedAndShownOnlyByItsLastFour()
    {
        var contributor = await app.CreateUserAsync(Roles.Contributor);
        using var client = await app.SignedInClientAsync(contributor.Email!);

        var (_, saved) = await client.SubmitToAsync("/Earnings", "/Earnings?handler=Bank",
            new Dictionary<string, string> { ["Bank.PayeeName"] = "Wang Fang", ["Bank.Kind"] = "Alipay", ["Bank.AccountReference"] = "13812345678" });
        var page = WebUtility.HtmlDecode(await client.GetPageAsync("/Earnings", "en"));

        saved.ShouldContain("Payouts go to Alipay •••• 5678 (Wang Fang).");
        foreach (var html in new[] { saved, page })
        {
            html.ShouldNotContain("13812345678");
            html.ShouldNotContain("1381234");
        }
        var stored = await app.WithDbAsync(db => db.Set<PayoutAccount>().AsNoTracking().SingleAsync(a => a.ContributorId == contributor.Id));
        (stored.AccountKind, stored.AccountNumberLast4, stored.LegacyAccountNumber).ShouldBe((PayoutAccountKind.Alipay, "5678", (string?)null));
        stored.AccountNumberProtected!.ShouldNotContain("13812345678");
        var inClear = await app.WithDbAsync(db => db.Database.SqlQuery<int>(
            $"SELECT count(*)::int AS \"Value\" FROM payout_accounts WHERE concat(bank_account_reference, account_number_protected, payee_name) LIKE '%1381234%'").SingleAsync());
        inClear.ShouldBe(0, "the number is nowhere in the database in clear");
        app.Services.GetRequiredService<PayoutAccountNumbers>().Reveal(stored.AccountNumberProtected, null).ShouldBe("13812345678", "the bank file can still read it");
    }

    [Fact]
    public async Task AccountNumbersStoredInClearBeforeEncryptionAreEncryptedAtStartUp()
    {
        var contributor = await app.WithDbAsync(db => MoneyWorld.ContributorWithBankAccountAsync(db, "Legacy"));
        var numbers = app.Services.GetRequiredService<PayoutAccountNumbers>();

        var protectedCount = await app.WithDbAsync(db => numbers.ProtectLegacyAsync(db, default));

        protectedCount.ShouldBeGreaterThanOrEqualTo(1);
        var stored = await app.WithDbAsync(db => db.Set<PayoutAccount>().AsNoTracking().SingleAsync(a => a.ContributorId == contributor));
        stored.LegacyAccountNumber.ShouldBeNull();
        numbers.Reveal(stored.AccountNumberProtected, stored.LegacyAccountNumber).ShouldBe("6222 0000 " + contributor.ToString("N")[..8]);
        stored.AccountNumberLast4.ShouldBe(contributor.ToString("N")[4..8]);
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
            await JobFunding.CheckNextHourAsync(db, new PayoutHarness("", _time).Notifications(db), job.Id, 2, _time);
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
        var (admin, contributor) = await AdminAndAnHourWorkedByAsync("Zhao Lei");
        using var client = admin;

        var (_, ran) = await client.SubmitToAsync("/Payouts/Batches", "/Payouts/Batches?handler=Run", new Dictionary<string, string>());
        ran.ShouldContain("written to bank batches, to download and send below; 0 sent through Stripe;");
        var (payout, batch) = await app.WithDbAsync(async db =>
        {
            var p = await db.Set<Payout>().SingleAsync(x => x.ContributorId == contributor);
            return (p, p.BatchId!.Value);
        });
        var csv = await client.GetPageAsync($"/Payouts/Batches?handler=Csv&batch={batch}");
        csv.ShouldContain($"Zhao Lei,6222 0000 {contributor.ToString("N")[..8]},30.00,CNY,{payout.Id:N}", Case.Sensitive, "the bank needs the whole number");

        (await client.SubmitToAsync("/Payouts/Batches", $"/Payouts/Batches?handler=Sent&batch={batch}", new Dictionary<string, string>())).Html
            .ShouldContain("Batch marked sent.");
        (await client.SubmitToAsync("/Payouts/Batches", $"/Payouts/Batches?handler=ConfirmAll&batch={batch}", new Dictionary<string, string>())).Html
            .ShouldContain("lines confirmed paid.");
        (await app.WithDbAsync(db => db.Set<Payout>().SingleAsync(x => x.Id == payout.Id))).State.ShouldBe(PayoutState.Settled);
        await app.WithDbAsync(MoneyWorld.LedgerIsSoundAsync);
    }

    [Fact]
    public async Task ABatchOffersOnlyWhatItsStateAllowsAndShowsAccountNumbersMasked()
    {
        var (admin, contributor) = await AdminAndAnHourWorkedByAsync("Sun Li");
        using var client = admin;
        await client.SubmitToAsync("/Payouts/Batches", "/Payouts/Batches?handler=Run", new Dictionary<string, string>());
        var (payout, batch) = await app.WithDbAsync(async db =>
        {
            var p = await db.Set<Payout>().SingleAsync(x => x.ContributorId == contributor);
            return (p.Id, p.BatchId!.Value);
        });
        var number = "6222 0000 " + contributor.ToString("N")[..8];
        async Task<(string Row, string Line)> ViewAsync()
        {
            var html = WebUtility.HtmlDecode(await client.GetPageAsync($"/Payouts/Batches?batch={batch}", "en"));
            html.ShouldNotContain(number);
            html.ShouldNotContain(number.Replace(" ", "", StringComparison.Ordinal));
            return (Between(html, $"data-testid=\"batch-{batch}\"", "</tr>"), Between(html, $"data-testid=\"line-{payout}\"", "</tr>"));
        }

        var (written, writtenLine) = await ViewAsync();
        written.ShouldContain("<td data-testid=\"batch-state\">Written</td>");
        written.ShouldContain("Mark sent");
        written.ShouldNotContain("Confirm all remaining lines");
        writtenLine.ShouldContain("In the file, not sent yet");
        writtenLine.ShouldNotContain("Confirm paid", Case.Sensitive, "nothing can be confirmed paid before the file went to the bank");
        writtenLine.ShouldContain($"Bank card •••• {contributor.ToString("N")[4..8]}");
        var early = await client.SubmitToAsync($"/Payouts/Batches?batch={batch}", $"/Payouts/Batches?handler=Confirm&batch={batch}&payout={payout}",
            new Dictionary<string, string>());
        early.Html.ShouldContain("Nothing changed: mark the batch sent first");
        (await app.WithDbAsync(db => db.Set<Payout>().SingleAsync(x => x.Id == payout))).State.ShouldBe(PayoutState.Sent);

        await client.SubmitToAsync("/Payouts/Batches", $"/Payouts/Batches?handler=Sent&batch={batch}", new Dictionary<string, string>());
        var (sent, sentLine) = await ViewAsync();
        sent.ShouldContain("<td data-testid=\"batch-state\">Sent</td>");
        sent.ShouldContain("Confirm all remaining lines");
        sent.ShouldNotContain("Mark sent");
        sentLine.ShouldContain("Sent, waiting for the bank");
        sentLine.ShouldContain("Confirm paid");

        await client.SubmitToAsync($"/Payouts/Batches?batch={batch}", $"/Payouts/Batches?handler=Confirm&batch={batch}&payout={payout}", new Dictionary<string, string>());
        var (done, doneLine) = await ViewAsync();
        done.ShouldContain("<td data-testid=\"batch-state\">Done</td>", Case.Sensitive, "a batch whose every line settled is no longer waiting for the bank");
        done.ShouldNotContain("Confirm all remaining lines");
        done.ShouldNotContain("Mark sent");
        doneLine.ShouldContain("Paid");
        doneLine.ShouldNotContain("Confirm paid");
        await app.WithDbAsync(MoneyWorld.LedgerIsSoundAsync);
    }

    /// <summary>An admin's client, and a contributor with a bank account who worked an hour at 30.00 CNY.</summary>
    private async Task<(HttpClient Admin, Guid Contributor)> AdminAndAnHourWorkedByAsync(string name)
    {
        var admin = await app.CreateUserAsync(Roles.Admin);
        var contributor = await app.WithDbAsync(async db =>
        {
            var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
            var c = await MoneyWorld.ContributorWithBankAccountAsync(db, name);
            await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), c, job.Id, 3_600_000, _time);
            return c;
        });
        return (await app.SignedInClientAsync(admin.Email!), contributor);
    }

    private static string Between(string html, string start, string end)
    {
        var from = html.IndexOf(start, StringComparison.Ordinal);
        from.ShouldBeGreaterThanOrEqualTo(0, start);
        return html[from..html.IndexOf(end, from, StringComparison.Ordinal)];
    }

    [Fact]
    public async Task AnAdminRecordsATransferByItsPaymentReferenceAndIsToldWhatIsWrongOtherwise()
    {
        var admin = await app.CreateUserAsync(Roles.Admin);
        var jobId = await app.WithDbAsync(async db =>
        {
            var job = await MoneyWorld.JobAsync(db, currency: "CNY", status: Crowd.Server.Features.Jobs.JobStatus.Draft);
            db.Add(new JobBudget { JobId = job.Id, TargetHours = 10, PlatformFeeBp = 1000, UpdatedAt = _time.GetUtcNow() });
            await db.SaveChangesAsync();
            return job.Id;
        });
        string reference;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            reference = await scope.ServiceProvider.GetRequiredService<BankTransfers>().ReferenceForAsync(jobId);
        }
        using var client = await app.SignedInClientAsync(admin.Email!);

        var waiting = WebUtility.HtmlDecode(await client.GetPageAsync("/Escrow/Fund", "en"));
        var row = Between(waiting, $"data-testid=\"waiting-{reference}\"", "</tr>");
        row.ShouldContain("330.00 CNY"); // 10 h × 30.00 + 10 %, all still needed
        waiting.ShouldNotContain(jobId.ToString(), Case.Insensitive, "the admin works with references, not raw ids");

        async Task<string> RecordAsync(string paymentReference, string amount, string currency, string bankReference) =>
            (await client.SubmitToAsync("/Escrow/Fund", "/Escrow/Fund", new Dictionary<string, string>
            {
                ["PaymentReference"] = paymentReference, ["Amount"] = amount, ["Currency"] = currency, ["BankReference"] = bankReference,
            })).Html;

        (await RecordAsync(reference, "100.00", "USD", "BOC-1")).ShouldContain("This job is paid in CNY; record the transfer in CNY.");
        var mistyped = reference[..^1] + (reference[^1] == '0' ? '1' : '0');
        (await RecordAsync(mistyped, "100.00", "CNY", "BOC-1")).ShouldContain("This payment reference has a mistyped character");
        (await RecordAsync("BOC-20261121-7", "100.00", "CNY", "BOC-1")).ShouldContain("This is not a payment reference.");
        var unknown = PaymentReference.New();
        (await RecordAsync(unknown, "100.00", "CNY", "BOC-1")).ShouldContain($"No job has the payment reference {unknown}.");
        (await app.WithDbAsync(db => LedgerQueries.BalanceAsync(db, AccountRef.Escrow(jobId, "CNY")))).Minor.ShouldBe(0, "nothing refused was recorded");

        (await RecordAsync(reference.ToLowerInvariant().Replace("-", " ", StringComparison.Ordinal), "100.00", "CNY", "BOC-1"))
            .ShouldContain("Recorded for \"Read Mandarin prompts\". Its escrow now holds 100.00 CNY.");
        (await RecordAsync(reference, "100.00", "CNY", "BOC-1")).ShouldContain("This transfer was recorded before; nothing changed.");
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
