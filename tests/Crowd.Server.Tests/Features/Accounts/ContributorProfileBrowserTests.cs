using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Browser;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Crowd.Server.Tests.Features.Accounts;

public sealed class ContributorProfileBrowserTests(BrowserApp app, ITestOutputHelper output) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task AContributorFillsTheirProfileFromTheAccountMenuSeesABadLanguageRefusedInPlaceFindsItSavedAfterAReloadAndTheBoardUsesIt()
    {
        var contributor = await app.CreateUserAsync(Roles.Contributor);
        var page = await app.SignedInPageAsync(contributor.Email!);
        await page.SetViewportSizeAsync(375, 740);
        await page.GotoAsync("/");

        await page.Locator("[data-testid=account-menu] > summary").ClickAsync();
        await page.Locator("[data-testid=account-menu] a[href='/Account/Profile']").ClickAsync();
        await Expect(page.GetByTestId("profile-why")).ToContainTextAsync("never shared in groups smaller than 5 people");
        await page.GetByTestId("profile-region").SelectOptionAsync("DE");
        await page.GetByTestId("language").FillAsync("zh-CN");
        await page.GetByTestId("accent").FillAsync("Beijing");
        await page.GetByTestId("profile-languages").FillAsync("en, Deutsch!");
        await page.GetByTestId("profile-gender").SelectOptionAsync("non-binary");
        await page.GetByTestId("profile-save").ClickAsync();

        await Expect(page.GetByTestId("profile-languages-error")).ToContainTextAsync("\"Deutsch!\" is not a language tag.");
        await Expect(page.GetByTestId("profile-languages")).ToHaveValueAsync("en, Deutsch!");
        await Expect(page.GetByTestId("profile-region")).ToHaveValueAsync("DE");
        await Expect(page.GetByTestId("profile-gender")).ToHaveValueAsync("non-binary");
        await Expect(page.GetByTestId("accent")).ToHaveValueAsync("Beijing");
        output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, "profile-error-375"));

        await page.GetByTestId("profile-languages").FillAsync("en, de");
        await page.GetByTestId("profile-save").ClickAsync();
        await Expect(page.GetByTestId("profile-saved")).ToBeVisibleAsync();
        await page.ReloadAsync();

        await Expect(page.GetByTestId("profile-region")).ToHaveValueAsync("DE");
        await Expect(page.GetByTestId("language")).ToHaveValueAsync("zh-CN");
        await Expect(page.GetByTestId("accent")).ToHaveValueAsync("Beijing");
        await Expect(page.GetByTestId("profile-languages")).ToHaveValueAsync("en, de");
        await Expect(page.GetByTestId("profile-gender")).ToHaveValueAsync("non-binary");
        await Expect(page.GetByTestId("profile-age-band")).ToHaveValueAsync("");
        (await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth")).ShouldBeTrue("the profile fits a phone's width");
        output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, "profile-375"));

        await page.GotoAsync("/");
        await Expect(page.GetByTestId("board-scope")).ToContainTextAsync("Jobs in your languages: zh-CN, en, de.");
        await Expect(page.GetByTestId("board-region-prompt")).ToHaveCountAsync(0);
        (await page.GetByTestId("board-show-all").BoundingBoxAsync())!.Height.ShouldBeGreaterThanOrEqualTo(40);
        (await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth")).ShouldBeTrue("the board fits a phone's width");
        app.Csp.ShouldBeClean();
    }
}
