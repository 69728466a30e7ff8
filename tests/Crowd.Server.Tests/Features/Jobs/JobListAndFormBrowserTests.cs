using Crowd.Server.Tests.Browser;
using Crowd.Server.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Crowd.Server.Tests.Features.Jobs;

public sealed class JobListAndFormBrowserTests(BrowserApp app, ITestOutputHelper output) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task TheJobFormFollowsTheRegionsCurrencyAndShowsFloorBudgetAndPublishingProblemsAsTheRequesterTypes()
    {
        var requester = await app.RequesterAsync("Acme Speech AI");
        var page = await app.SignedInPageAsync(requester.User.Email!);
        await page.GotoAsync("/Jobs/Edit");
        var problems = page.GetByTestId("publish-problems");
        await Expect(problems).ToBeVisibleAsync();
        await Expect(problems).ToContainTextAsync("Save the job, then fund its escrow");
        await Expect(problems).ToContainTextAsync("Add at least one prompt before publishing.");

        await page.GetByTestId("job-rate").FillAsync("20.00");
        await Expect(problems).ToContainTextAsync("The hourly rate 20.00 CNY is below the floor for Beijing, mainland China (CN-BJ): 27.70 CNY.");
        await page.GetByTestId("job-target-hours").FillAsync("10");
        await Expect(page.GetByTestId("budget-hint")).ToContainTextAsync("10 hours at 20.00 CNY an hour is 200.00 CNY of pay");

        await page.GetByTestId("job-region").SelectOptionAsync("GB");
        await Expect(page.GetByTestId("job-currency")).ToHaveValueAsync("GBP");
        await Expect(page.GetByTestId("floor-hint")).ToContainTextAsync("The floor for United Kingdom (GB) is 12.21 GBP per hour");
        await Expect(page.GetByTestId("budget-hint")).ToContainTextAsync("10 hours at 20.00 GBP an hour is 200.00 GBP of pay");
        await Expect(problems).Not.ToContainTextAsync("below the floor");

        await page.GetByTestId("job-rate").FillAsync("ten pounds");
        await Expect(problems).ToContainTextAsync("Enter the hourly rate as an amount like 30.00.");
        await Expect(page.GetByTestId("budget-hint")).ToContainTextAsync("Enter the target hours and the hourly rate to see the budget.");
        output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, "job-form-live-feedback"));
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task TheJobListShowsEachJobsStateProgressAndSpendAndLeadsToItsDashboard()
    {
        var requester = await app.RequesterAsync("Acme Speech AI");
        var live = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "Read weather reports"));
        var draft = await requester.Client.CreateJobAsync(JobsTestData.ValidJob(title: "Read street names") with { TargetHours = null });
        var unfunded = await requester.Client.CreateJobAsync(JobsTestData.ValidJob(title: "Read bus stops"));
        var page = await app.SignedInPageAsync(requester.User.Email!);
        await page.SetViewportSizeAsync(375, 800);

        await page.GotoAsync("/Jobs");
        var liveRow = page.Locator($"[data-job-id='{live.Id}']");
        await Expect(liveRow.GetByTestId("job-status")).ToHaveTextAsync("Live");
        await Expect(liveRow.GetByTestId("job-progress")).ToContainTextAsync("0 of 2");
        await Expect(liveRow.GetByTestId("job-spend")).ToContainTextAsync("0.00 CNY of");
        await Expect(page.Locator($"[data-job-id='{draft.Id}']").GetByTestId("job-status")).ToHaveTextAsync("Draft");
        await Expect(page.Locator($"[data-job-id='{draft.Id}']").GetByTestId("job-spend")).ToHaveTextAsync("No budget yet");
        await Expect(page.Locator($"[data-job-id='{unfunded.Id}']").GetByTestId("job-status")).ToHaveTextAsync("Waiting for money");
        (await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth")).ShouldBeTrue("the list fits a phone's width");
        output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, "job-list-375"));

        await liveRow.GetByTestId("job-dashboard-link").ClickAsync();
        await page.WaitForURLAsync($"**/Jobs/{live.Id}");
        await Expect(page.GetByTestId("job-state")).ToHaveTextAsync("Live");
        await page.GetByTestId("edit-link").ClickAsync();
        await Expect(page.GetByTestId("job-title")).ToHaveValueAsync("Read weather reports");
        app.Csp.ShouldBeClean();
    }
}
