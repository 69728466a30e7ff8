using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Crowd.Server.Tests.Browser;

/// <summary>A newcomer in Chromium: signs up, signs out, signs in again and finds work on the job board.</summary>
public sealed class SignUpSignInAndBoardTests(BrowserApp app, ITestOutputHelper output) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task AContributorSignsUpSignsInAndSeesTheJobBoard()
    {
        var requester = await app.RequesterAsync("Acme Speech AI");
        var job = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "Read Mandarin weather reports"));
        var page = await app.NewPageAsync();
        var email = $"li-wei-{Guid.NewGuid():N}@example.test";

        await page.GotoAsync("/Account/SignUp");
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", "a long enough passphrase");
        await page.FillAsync("#displayName", "Li Wei");
        await page.FillAsync("#dateOfBirth", "1998-04-12");
        await page.CheckAsync("[data-testid=role-contributor]");
        await page.ClickAsync("[data-testid=signup-submit]");

        // Signing up never signs in: an address that already has an account must get the very same page.
        await Assertions.Expect(page.GetByTestId("signed-up")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("signed-in-as")).ToHaveCountAsync(0);
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", "a long enough passphrase");
        await page.ClickAsync("[data-testid=signin-submit]");
        await Assertions.Expect(page.GetByTestId("signed-in-as")).ToHaveTextAsync("Li Wei");
        await page.ClickAsync("[data-testid=account-menu] > summary");
        await page.ClickAsync("[data-testid=header-signout]");
        await Assertions.Expect(page.GetByTestId("signed-in-as")).ToHaveCountAsync(0);

        await page.GotoAsync("/Account/SignIn");
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", "a long enough passphrase");
        await page.ClickAsync("[data-testid=signin-submit]");

        await Assertions.Expect(page.GetByTestId("signed-in-as")).ToHaveTextAsync("Li Wei");
        await page.GotoAsync("/");
        var card = page.GetByTestId("board-job").Filter(new() { HasText = "Read Mandarin weather reports" });
        await Assertions.Expect(card).ToHaveCountAsync(1);
        await Assertions.Expect(card.GetByTestId("board-job-facts")).ToContainTextAsync("30.00 CNY");
        output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, "job-board-signed-in"));
        job.Title.ShouldBe("Read Mandarin weather reports");
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task AChineseBrowserGetsTheBoardInChineseAndCanSwitchToEnglish()
    {
        var page = await app.NewPageAsync(locale: "zh-CN");

        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("header")).ToContainTextAsync("任务大厅");

        await page.ClickAsync("button[name=culture][value=en]");
        await Assertions.Expect(page.Locator("header")).ToContainTextAsync("Job board");
        output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, "job-board-switched-to-english"));
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task TheApiDocsWorkUnderTheContentSecurityPolicy()
    {
        var page = await app.NewPageAsync();

        await page.GotoAsync("/docs/index.html");

        await Assertions.Expect(page.Locator(".swagger-ui .info .title")).ToContainTextAsync("Crowd");
        await Assertions.Expect(page.Locator(".opblock-tag").First).ToBeVisibleAsync();
        output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, "api-docs"));
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task TheContentSecurityPolicyBlocksAnInjectedInlineScriptAndTheTestsSeeIt()
    {
        var watch = new CspWatch();
        var context = await app.Browser.NewContextAsync(new() { BaseURL = app.Address.ToString() });
        await watch.WatchAsync(context);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/Account/SignIn");

        var ran = await page.EvaluateAsync<bool>("""
            () => {
              window.injectedRan = false;
              const script = document.createElement('script');
              script.textContent = 'window.injectedRan = true';
              document.body.appendChild(script);
              return window.injectedRan;
            }
            """);

        ran.ShouldBeFalse("an inline script is not allowed to run");
        await Assertions.Expect(page.GetByTestId("signin-form")).ToBeVisibleAsync();
        await watch.FirstViolation.WaitAsync(TimeSpan.FromSeconds(10));
        watch.Violations.ShouldContain(v => v.Contains("script-src", StringComparison.Ordinal));
        Should.Throw<ShouldAssertException>(watch.ShouldBeClean);
    }
}
