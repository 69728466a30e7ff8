using System.Net;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Browser;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Crowd.Server.Tests.Scheduling;

/// <summary>Hangfire's dashboard at /admin/jobs: admins only, through the platform's sign-in and roles.</summary>
public sealed class JobsDashboardTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task AnAnonymousVisitorIsSentToSignIn()
    {
        using var response = await app.AnonymousClient().GetAsync(new Uri("/admin/jobs", UriKind.Relative));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldContain("/Account/SignIn?ReturnUrl=%2Fadmin%2Fjobs");
    }

    [Theory]
    [InlineData(Roles.Contributor)]
    [InlineData(Roles.Supplier)]
    public async Task AnyOtherRoleIsRefused(string role)
    {
        var user = await app.CreateUserAsync(role);
        using var client = await app.SignedInClientAsync(user.Email!);

        foreach (var path in new[] { "/admin/jobs", "/admin/jobs/recurring", "/admin/jobs/stats" })
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            response.StatusCode.ShouldBe(HttpStatusCode.Redirect, path);
            response.Headers.Location!.ToString().ShouldContain("/Account/Denied");
            (await client.GetAsync(response.Headers.Location)).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }
    }

    [Fact]
    public async Task ARequesterIsRefused()
    {
        var requester = await app.RequesterAsync();

        using var response = await requester.Client.GetAsync(new Uri("/admin/jobs", UriKind.Relative));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldContain("/Account/Denied");
    }

    [Fact]
    public async Task AnAdminSeesTheDashboardUnderAPolicyScopedToItsPath()
    {
        var admin = await app.CreateUserAsync(Roles.Admin);
        using var client = await app.SignedInClientAsync(admin.Email!);

        using var dashboard = await client.GetAsync(new Uri("/admin/jobs/recurring", UriKind.Relative));
        using var home = await client.GetAsync(new Uri("/", UriKind.Relative));

        dashboard.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await dashboard.Content.ReadAsStringAsync()).ShouldContain("Crowd jobs");
        var policy = Directives(dashboard);
        policy["style-src"].ShouldBe("'self' 'unsafe-inline'", "the dashboard colours job states with inline styles");
        policy["script-src"].ShouldBe("'self'", "its scripts stay its own files");
        policy["frame-ancestors"].ShouldBe("'none'");
        Directives(home)["style-src"].ShouldBe("'self'", "the dashboard's relaxation applies to its own path only");
    }

    private static Dictionary<string, string> Directives(HttpResponseMessage response) =>
        response.Headers.GetValues("Content-Security-Policy").ShouldHaveSingleItem().Split(';', StringSplitOptions.TrimEntries)
            .Select(d => d.Split(' ', 2)).ToDictionary(d => d[0], d => d.Length > 1 ? d[1] : "");
}

/// <summary>The dashboard in Chromium, under its Content-Security-Policy: its scripts run, its polling passes antiforgery.</summary>
public sealed class JobsDashboardBrowserTests(BrowserApp app, ITestOutputHelper output) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task AnAdminUsesTheJobsDashboardInABrowserWithNothingBlockedByItsPolicy()
    {
        var admin = await app.CreateUserAsync(Roles.Admin);
        var page = await app.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            // The site's own pages are not under test here (the sign-in page has no favicon); the dashboard and any policy refusal are.
            if (message.Type == "error" && (message.Location.Contains("/admin/jobs", StringComparison.Ordinal)
                                            || message.Text.Contains("Content Security Policy", StringComparison.Ordinal)))
            {
                errors.Add($"{message.Text} at {message.Location}");
            }
        };
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                errors.Add($"{response.Status} {response.Url}");
            }
        };

        await page.GotoAsync("/Account/SignIn?ReturnUrl=%2Fadmin%2Fjobs");
        await page.FillAsync("#email", admin.Email!);
        await page.FillAsync("#password", TestAccounts.Password);
        var polled = page.WaitForResponseAsync(r => r.Url.EndsWith("/admin/jobs/stats", StringComparison.Ordinal) && r.Status == 200);
        await page.ClickAsync("[data-testid=signin-submit]");

        await Assertions.Expect(page.Locator(".navbar-brand")).ToHaveTextAsync("Crowd jobs");
        await polled; // the dashboard's own script polls its statistics, with the antiforgery header it reads from the page
        await page.ClickAsync("a[href='/admin/jobs/recurring']");
        await Assertions.Expect(page.Locator(".page-header")).ToContainTextAsync("Recurring");
        output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, "jobs-dashboard"));
        errors.ShouldBeEmpty("nothing refused by the Content-Security-Policy or otherwise broken");
    }
}
