using Crowd.Server.Tests.Browser;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Features.Reviews;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Crowd.Server.Tests.Features.Notifications;

public sealed class NotificationsBrowserTests(ReviewsBrowserApp app, ITestOutputHelper output) : IClassFixture<ReviewsBrowserApp>
{
    [Fact]
    public async Task ARejectionRingsTheBellOfAnOpenPageAndTheContributorOpensItAndAppeals()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id);
        var contributor = await app.SignedInPageAsync(speaker.Email!, "en-US");
        await contributor.GotoAsync("/");
        await Expect(contributor.GetByTestId("bell")).ToHaveAttributeAsync("data-unread", "0");
        await Expect(contributor.GetByTestId("bell-count")).ToBeHiddenAsync();

        var requester = await app.SignedInPageAsync(job.Requester.Email!, "en-US");
        await requester.GotoAsync($"/Reviews/{job.Job.Id}");
        var item = requester.Locator($"[data-clip-id='{clip}']");
        await item.GetByTestId("reject-open").ClickAsync();
        await item.GetByTestId("reject-reason").SelectOptionAsync("wrong-prompt");
        await item.GetByTestId("reject-note").FillAsync("You read the second sentence instead of the first.");
        await item.GetByTestId("reject").ClickAsync();
        await Expect(item.GetByTestId("row-state")).ToHaveTextAsync("Rejected");

        // The page that was already open hears of it without a reload.
        await Expect(contributor.GetByTestId("bell-count")).ToHaveTextAsync("1");
        await Expect(contributor.GetByTestId("live-notification-link")).ToHaveTextAsync("A clip was rejected: Read short sentences");
        await Shot(contributor, "notifications-1-bell");

        await contributor.GetByTestId("bell").ClickAsync();
        var notification = contributor.GetByTestId("notification");
        await Expect(notification).ToHaveCountAsync(1);
        await Expect(notification).ToContainTextAsync("Reason: Wrong prompt read.");
        await Expect(notification).ToContainTextAsync("The reviewer wrote: You read the second sentence instead of the first.");
        await Shot(contributor, "notifications-2-list");
        await notification.GetByTestId("open").ClickAsync();

        await Expect(contributor).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/Reviews/Mine#clip-{clip}$"));
        await Expect(contributor.GetByTestId("bell")).ToHaveAttributeAsync("data-unread", "0");
        var rejection = contributor.Locator($"#clip-{clip}");
        await Expect(rejection.GetByTestId("rejection-reason")).ToHaveTextAsync("Wrong prompt read");
        await rejection.GetByTestId("appeal-note").FillAsync("The screen showed the second sentence first.");
        await rejection.GetByTestId("appeal").ClickAsync();
        await Expect(contributor.GetByTestId("appeal-sent")).ToBeVisibleAsync();
        await Expect(contributor.GetByTestId("appeal-state")).ToContainTextAsync("Waiting for an admin");
        await Shot(contributor, "notifications-3-appealed");
        app.Csp.ShouldBeClean();
    }

    private async Task Shot(IPage page, string name) => output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, name));
}
