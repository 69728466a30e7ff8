using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Browser;
using Crowd.Server.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Crowd.Server.Tests.Features.Suppliers;

public sealed class SupplierPagesBrowserTests(BrowserApp app, ITestOutputHelper output) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task ASupplierCopiesAnInvitationLinkSeesItsQrCodeAndReadsWhenFiguresAppearOnAPhone()
    {
        var organisation = await app.CreateOrganisationAsync(OrganisationKind.Supplier, "Campus Voices " + Guid.NewGuid().ToString("N")[..6]);
        var staff = await app.CreateUserAsync(Roles.Supplier, organisationId: organisation);
        var page = await app.SignedInPageAsync(staff.Email!);
        await page.SetViewportSizeAsync(375, 800);

        await page.GotoAsync("/Supplier/Invitations");
        await page.Locator("#label").FillAsync("Spring fair");
        await page.GetByTestId("create-invitation").ClickAsync();
        var invitation = page.GetByTestId("invitation").First;
        await Expect(invitation.GetByTestId("link")).ToContainTextAsync("/join/");
        await Expect(invitation.GetByTestId("qr")).ToBeVisibleAsync();
        // Read once the browser has finished with the image, loaded or broken: a busy machine may still be fetching it.
        (await invitation.GetByTestId("qr").EvaluateAsync<int>(
                "img => img.complete ? img.naturalWidth : new Promise(done => { img.onload = img.onerror = () => done(img.naturalWidth); })"))
            .ShouldBeGreaterThan(0, "the QR code loads");
        await invitation.GetByTestId("copy-link").ClickAsync();
        // Headless Chromium may refuse the clipboard; either way the button says what happened.
        await Expect(invitation.GetByTestId("copy-status")).Not.ToBeEmptyAsync();
        (await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth")).ShouldBeTrue("the invitations fit a phone's width");
        (await invitation.GetByTestId("copy-link").BoundingBoxAsync())!.Height.ShouldBeGreaterThanOrEqualTo(40);
        output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, "supplier-invitations-375"));

        await page.GotoAsync("/Supplier/Stats");
        await Expect(page.GetByTestId("no-figures")).ToHaveTextAsync("Figures appear once at least 5 people you invited have worked in a finished month: fewer than 5 so far.");
        (await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth")).ShouldBeTrue("the figures fit a phone's width");
        output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, "supplier-figures-375"));
        app.Csp.ShouldBeClean();
    }
}
