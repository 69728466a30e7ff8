using System.Text.RegularExpressions;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Tests.Browser;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Crowd.Server.Tests.Features.Escrow;

/// <summary>
/// The server on a port chosen ahead, so that its public address (where Stripe sends the requester back) is its real one,
/// with the fake Stripe standing in for Stripe's hosted payment page and sending its webhooks here.
/// </summary>
public sealed class FundingBrowserApp : BrowserApp
{
    public FakeStripe Stripe { get; private set; } = null!;

    protected override int Port { get; } = ServerProcess.FreePort();

    public override async Task InitializeAsync()
    {
        Stripe = await FakeStripe.StartAsync();
        await base.InitializeAsync();
        Stripe.WebhookUrl = new Uri(Address, "/api/payouts/stripe/webhook");
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        StripeFundingApp.UseStripeAndBank(builder, Stripe, new Uri($"http://127.0.0.1:{Port}/"));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Stripe.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A requester in Chromium funds a draft job, by card through (the fake) Stripe Checkout or by a bank transfer an admin records, and it goes live.</summary>
public sealed class FundingBrowserTests(FundingBrowserApp app, ITestOutputHelper output) : IClassFixture<FundingBrowserApp>
{
    [Fact]
    public async Task ARequesterPaysByCardOnStripeComesBackToAFundedJobAndPublishesIt()
    {
        var requester = await app.RequesterAsync("Acme Speech AI");
        var job = await DraftAsync(requester, "Read Mandarin street names");
        var page = await app.SignedInPageAsync(requester.User.Email!);

        await page.GotoAsync($"/Jobs/Edit?id={job.Id}");
        await Expect(page.GetByTestId("escrow-state")).ToContainTextAsync("1,320.00 CNY is still needed before the job can go live");
        await Shot(page, "funding-1-unfunded");
        await page.GetByTestId("pay-by-card").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("^" + Regex.Escape(app.Stripe.BaseAddress + "pay/cs_test_")));
        await Expect(page.GetByTestId("fake-amount")).ToHaveTextAsync("1,320.00 CNY");
        await Shot(page, "funding-2-stripe-checkout");
        await page.GetByTestId("fake-pay").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex(Regex.Escape($"/Jobs/Edit?id={job.Id}&funding=card-paid") + "$"));
        await Expect(page.GetByTestId("escrow-state")).ToContainTextAsync("The escrow holds 1,320.00 CNY, which covers the budget.");
        app.Stripe.Checkouts.Single(c => c.Form["metadata[job_id]"] == job.Id.ToString()).WebhookStatus.ShouldBe(200);
        await Shot(page, "funding-3-funded");
        await page.GetByTestId("publish-funded").ClickAsync();

        await Expect(page.GetByTestId("job-published")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("job-state")).ToContainTextAsync("Published");
        (await app.WithDbAsync(db => db.Jobs.SingleAsync(j => j.Id == job.Id))).Status.ShouldBe(JobStatus.Published);
        await Shot(page, "funding-4-published");
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task ARequesterPaysByBankTransferWithTheReferenceAnAdminRecordsItAndTheJobGoesLive()
    {
        var requester = await app.RequesterAsync("Lingua Data Co");
        var job = await DraftAsync(requester, "Read Cantonese menus");
        var page = await app.SignedInPageAsync(requester.User.Email!);
        await page.GotoAsync($"/Jobs/Edit?id={job.Id}");
        await Expect(page.GetByTestId("bank-details")).ToContainTextAsync("0109 0001 2345 6789");
        var reference = (await page.GetByTestId("payment-reference").TextContentAsync())!.Trim();
        reference.ShouldMatch("^CW-[0-9A-Z]{4}-[0-9A-Z]{4}$");
        await page.GetByTestId("auto-publish").ClickAsync();
        await Expect(page.GetByTestId("auto-publish-state")).ToContainTextAsync("The job will be published as soon as the escrow covers its budget.");
        await Shot(page, "funding-bank-1-reference");

        var admin = await app.CreateUserAsync(Roles.Admin);
        var adminPage = await app.SignedInPageAsync(admin.Email!);
        await adminPage.GotoAsync("/Escrow/Fund");
        var waiting = adminPage.GetByTestId("waiting-" + reference);
        await Expect(waiting).ToContainTextAsync("Lingua Data Co");
        await Expect(waiting).ToContainTextAsync("1,320.00 CNY");
        await adminPage.FillAsync("#PaymentReference", reference.ToLowerInvariant().Replace("-", " ", StringComparison.Ordinal));
        await adminPage.FillAsync("#Amount", "1320.00");
        await adminPage.SelectOptionAsync("#Currency", "CNY");
        await adminPage.FillAsync("#BankReference", "BOB-20261128-0042");
        await adminPage.GetByTestId("record-submit").ClickAsync();
        await Expect(adminPage.GetByTestId("result")).ToContainTextAsync("which covers the budget; the requester has been told.");
        await Expect(adminPage.GetByTestId("waiting-" + reference)).ToHaveCountAsync(0);
        await Shot(adminPage, "funding-bank-2-recorded");

        await page.ReloadAsync();
        await Expect(page.GetByTestId("job-state")).ToContainTextAsync("Published");
        var board = await app.NewPageAsync();
        await board.GotoAsync("/");
        await Expect(board.GetByTestId("board-job").Filter(new() { HasText = "Read Cantonese menus" })).ToHaveCountAsync(1);
        await Shot(page, "funding-bank-3-live");
        app.Csp.ShouldBeClean();
    }

    private async Task<JobResponse> DraftAsync(Requester requester, string title)
    {
        var job = await requester.Client.CreateJobAsync(JobsTestData.ValidJob(title));
        await requester.Client.PutPromptsAsync(job.Id, "今天天气很好。\n我们明天去公园。\n");
        await app.ApprovedAssessmentAsync(requester.Client, job.Id);
        return job;
    }

    private async Task Shot(IPage page, string name) => output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, name));
}
