using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Crowd.Server.Tests.Browser;

/// <summary>
/// Every page of every role on a 375 px phone and a 1280 px desktop, in English and Chinese: nothing wider than the
/// screen, and nothing a finger taps smaller than 40 px. Links inside a sentence are exempt, as WCAG 2.5.8 exempts
/// them: their size is the line's. The pages are those each role's menus lead to, plus the ones reached from a job.
/// </summary>
public sealed class LayoutBrowserTests(BrowserApp app, ITestOutputHelper output) : IClassFixture<BrowserApp>
{
    public const int MinTarget = 40;

    private static readonly (int Width, int Height)[] s_sizes = [(375, 740), (1280, 800)];
    private static readonly string[] s_locales = ["en-US", "zh-CN"];

    // Runs in the page: the problems a person on this screen would meet.
    private const string Check = """
        (where) => {
          const problems = [];
          const doc = document.documentElement;
          if (doc.scrollWidth > innerWidth) {
            const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
              .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().replace(/\s+/g, '.') : ''))
              .slice(-3);
            problems.push(`${where}: the page is ${doc.scrollWidth} px wide on a ${innerWidth} px screen (${wide.join(', ')})`);
          }
          const targets = document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary');
          for (const el of targets) {
            if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
            const style = getComputedStyle(el);
            if (style.pointerEvents === 'none') continue;
            if (el.tagName === 'A' && style.display === 'inline') continue;
            let box = el;
            if (el.type === 'checkbox' || el.type === 'radio') box = el.closest('label') ?? (el.id && document.querySelector(`label[for="${el.id}"]`)) ?? el;
            const r = box.getBoundingClientRect();
            if (r.width < 40 || r.height < 40) {
              const name = (el.getAttribute('data-testid') || el.textContent || el.name || el.id || '').trim().replace(/\s+/g, ' ').slice(0, 40);
              problems.push(`${where}: <${el.tagName.toLowerCase()}> "${name}" is ${Math.round(r.width)}×${Math.round(r.height)} px`);
            }
          }
          return problems;
        }
        """;

    [Fact]
    public async Task EveryPageFitsAPhoneAndADesktopInBothLanguagesSignedOut()
    {
        var job = await JobAsync();
        await CheckRoleAsync(null, ["/", $"/Board/{job}", "/Account/SignIn", "/Account/SignUp", "/Account/ForgotPassword"]);
    }

    [Fact]
    public async Task EveryPageOfAContributorFitsAPhoneAndADesktopInBothLanguages()
    {
        var job = await JobAsync();
        var consented = await JobAsync("Recorded job with a long title that has to wrap on a phone screen");
        var contributor = await app.CreateUserAsync(Roles.Contributor);
        await RecordingTestData.ConsentAsync(app, new TestJob(consented, 1, []), contributor.Id);

        await CheckRoleAsync(contributor.Email, ["/", $"/Board/{job}", $"/Recording/{job}/Consent", $"/Recording/{consented}", "/Account/Profile"]);
    }

    [Fact]
    public async Task EveryPageOfARequesterFitsAPhoneAndADesktopInBothLanguages()
    {
        var requester = await app.RequesterAsync("Acme Speech AI");
        var job = (await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "Read Mandarin weather reports"))).Id;
        await CheckRoleAsync(requester.User.Email,
            ["/Jobs", $"/Jobs/{job}", $"/Jobs/Edit?id={job}", $"/Jobs/{job}/Assessment", $"/Reviews/{job}", "/Requester/Webhook", $"/Board/{job}"]);
    }

    [Fact]
    public async Task EveryPageOfAnAdminFitsAPhoneAndADesktopInBothLanguages()
    {
        var admin = await app.CreateUserAsync(Roles.Admin);
        await CheckRoleAsync(admin.Email, ["/Admin/Processing/Report"]);
    }

    [Fact]
    public async Task EveryPageOfASupplierFitsAPhoneAndADesktopInBothLanguages()
    {
        var supplier = await app.CreateOrganisationAsync(Crowd.Server.Features.Accounts.OrganisationKind.Supplier, "Spring Fair Recruiting");
        var staff = await app.CreateUserAsync(Roles.Supplier, organisationId: supplier);
        await CheckRoleAsync(staff.Email, []);
    }

    [Fact]
    public async Task ThePhoneRecorderKeepsThePromptAndTheRecordButtonAboveTheFoldAndTheConsentPageFits()
    {
        var job = await JobAsync("Read Mandarin weather reports");
        var consented = await JobAsync("Read short sentences");
        var contributor = await app.CreateUserAsync(Roles.Contributor);
        await RecordingTestData.ConsentAsync(app, new TestJob(consented, 1, []), contributor.Id);

        foreach (var locale in s_locales)
        {
            var page = await app.SignedInPageAsync(contributor.Email!, locale);
            await page.SetViewportSizeAsync(375, 740);
            var language = locale[..2];

            await page.GotoAsync($"/Recording/{consented}");
            await Assertions.Expect(page.GetByTestId("record")).ToBeVisibleAsync();
            var prompt = (await page.GetByTestId("prompt").BoundingBoxAsync())!;
            var record = (await page.GetByTestId("record").BoundingBoxAsync())!;
            (prompt.Y + prompt.Height).ShouldBeLessThanOrEqualTo(740, "the prompt is above the fold");
            (record.Y + record.Height).ShouldBeLessThanOrEqualTo(740, "the record button is above the fold");
            record.Height.ShouldBeGreaterThanOrEqualTo(48, "the record button is a big target");
            output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, $"recorder-375-{language}"));

            await page.GotoAsync($"/Recording/{job}/Consent");
            await Assertions.Expect(page.GetByTestId("consent")).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByTestId("consent-details")).Not.ToHaveAttributeAsync("open", "");
            (await page.EvaluateAsync<string[]>(Check, $"consent {language}")).ShouldBeEmpty();
            output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, $"consent-375-{language}"));
            await page.Context.CloseAsync();
        }
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task TheFaviconAndTheAppIconAreServed()
    {
        using var client = app.CreateClient();
        foreach (var path in new[] { "/favicon.ico", "/icon.svg", "/apple-touch-icon.png" })
        {
            var response = await client.GetAsync(path);
            response.IsSuccessStatusCode.ShouldBeTrue(path);
        }
    }

    private async Task<Guid> JobAsync(string title = "Read Mandarin news sentences")
    {
        var requester = await app.RequesterAsync("Acme Speech AI Ltd, a buyer whose name is rather long for a small screen");
        return (await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: title))).Id;
    }

    private async Task CheckRoleAsync(string? email, IEnumerable<string> extraPages)
    {
        var problems = new List<string>();
        var visited = 0;
        foreach (var locale in s_locales)
        {
            var page = email is null ? await app.NewPageAsync(locale) : await app.SignedInPageAsync(email, locale);
            await page.GotoAsync("/");
            // The role's menus name its pages; the menu is in the page even while it is folded away.
            var menu = await page.Locator("header a[href^='/']").EvaluateAllAsync<string[]>("links => links.map(a => a.getAttribute('href'))");
            var pages = menu.Concat(extraPages).Where(p => p != "/Account/SignOut").Distinct().ToList();
            foreach (var (width, height) in s_sizes)
            {
                await page.SetViewportSizeAsync(width, height);
                foreach (var path in pages)
                {
                    var response = await page.GotoAsync(path);
                    response!.Ok.ShouldBeTrue($"{path} answered {response.Status}");
                    var where = $"{path} at {width} px, {locale}";
                    problems.AddRange(await page.EvaluateAsync<string[]>(Check, where));
                    if (await page.GetByTestId("menu-button").IsVisibleAsync())
                    {
                        await page.GetByTestId("menu-button").ClickAsync();
                        await Assertions.Expect(page.GetByTestId("main-nav")).ToBeVisibleAsync();
                        problems.AddRange(await page.EvaluateAsync<string[]>(Check, where + ", menu open"));
                    }
                    // A printable report has no page header.
                    if (email is not null && await page.GetByTestId("account-menu").CountAsync() > 0)
                    {
                        await page.Locator("[data-testid=account-menu] > summary").ClickAsync();
                        await Assertions.Expect(page.GetByTestId("header-signout")).ToBeVisibleAsync();
                        problems.AddRange(await page.EvaluateAsync<string[]>(Check, where + ", account menu open"));
                    }
                    visited++;
                }
            }
            await page.Context.CloseAsync();
        }
        output.WriteLine($"{visited} page views checked");
        foreach (var problem in problems.Distinct())
        {
            output.WriteLine(problem);
        }
        problems.Distinct().ShouldBeEmpty(string.Join("\n", problems.Distinct()));
        app.Csp.ShouldBeClean();
    }
}
