using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Features.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Crowd.Server.Tests.Browser;

/// <summary>Mailed links in Chromium, read where an admin reads every mail: /Admin/Mailbox.</summary>
public sealed class AccountRecoveryBrowserTests(BrowserApp app, ITestOutputHelper output) : IClassFixture<BrowserApp>
{
    private const string Passphrase = "a long enough passphrase";

    [Fact]
    public async Task ANewcomerConfirmsTheirAddressWithTheLinkInTheWelcomeMail()
    {
        var email = $"newcomer-{Guid.NewGuid():N}@example.test";
        var page = await app.NewPageAsync();
        await page.GotoAsync("/Account/SignUp");
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", Passphrase);
        await page.FillAsync("#displayName", "Zhang Min");
        await page.FillAsync("#dateOfBirth", "1999-02-03");
        await page.CheckAsync("[data-testid=role-contributor]");
        await page.ClickAsync("[data-testid=signup-submit]");
        await Expect(page.GetByTestId("signed-up")).ToBeVisibleAsync();
        (await ConfirmedAsync(email)).ShouldBeFalse();

        var link = await LinkFromMailboxAsync(email, "Welcome to Crowd", "/Account/ConfirmEmail");
        await page.GotoAsync(link);

        await Expect(page.GetByTestId("email-confirmed")).ToBeVisibleAsync();
        (await ConfirmedAsync(email)).ShouldBeTrue();
        await page.GotoAsync(link.Replace("token=", "token=x", StringComparison.Ordinal));
        await Expect(page.GetByTestId("email-confirmed")).ToBeVisibleAsync(new() { Timeout = 10_000 });
        await page.GotoAsync("/Account/ConfirmEmail?user=" + Guid.NewGuid() + "&token=forged");
        await Expect(page.GetByTestId("link-error")).ToContainTextAsync("Ask for a new one.");
        app.Csp.ShouldBeClean();
    }

    [Fact]
    public async Task AForgottenPasswordIsReplacedThroughALinkThatWorksOnce()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        var page = await app.NewPageAsync();
        await page.GotoAsync("/Account/SignIn");
        await page.GetByTestId("forgot-link").ClickAsync();
        await page.FillAsync("#email", user.Email!);
        await page.GetByTestId("forgot-submit").ClickAsync();
        await Expect(page.GetByTestId("reset-sent")).ToBeVisibleAsync();

        var link = await LinkFromMailboxAsync(user.Email!, "Choose a new Crowd password", "/Account/ResetPassword");
        await page.GotoAsync(link);
        await page.FillAsync("#password", "short");
        await page.GetByTestId("reset-submit").ClickAsync();
        await Expect(page.GetByTestId("error-summary")).ToContainTextAsync("Choose a password of at least 12 characters.");
        await page.FillAsync("#password", "a fresh and long passphrase");
        await page.GetByTestId("reset-submit").ClickAsync();
        await Expect(page.GetByTestId("password-reset")).ToBeVisibleAsync();
        output.WriteLine("Screenshot: " + await BrowserApp.ScreenshotAsync(page, "password-reset-done"));

        await page.FillAsync("#email", user.Email!);
        await page.FillAsync("#password", "a fresh and long passphrase");
        await page.ClickAsync("[data-testid=signin-submit]");
        await Expect(page.GetByTestId("signed-in-as")).ToBeVisibleAsync();

        var again = await app.NewPageAsync();
        await again.GotoAsync(link);
        await again.FillAsync("#password", "yet another long passphrase");
        await again.GetByTestId("reset-submit").ClickAsync();
        await Expect(again.GetByTestId("error-summary")).ToContainTextAsync("This link was already used");
        app.Csp.ShouldBeClean();
    }

    private async Task<string> LinkFromMailboxAsync(string to, string subject, string path)
    {
        var admin = await app.CreateUserAsync(Roles.Admin);
        var mailbox = await app.SignedInPageAsync(admin.Email!);
        await mailbox.GotoAsync("/Admin/Mailbox?To=" + Uri.EscapeDataString(to));
        var mail = mailbox.GetByTestId("mail").Filter(new() { HasText = subject });
        await Expect(mail).ToHaveCountAsync(1);
        var body = await mail.GetByTestId("mail-body").InnerTextAsync();
        await mailbox.CloseAsync();
        return AccountRecoveryTests.LinkIn(body, path);
    }

    private Task<bool> ConfirmedAsync(string email) => app.WithDbAsync(db => db.Users.Where(u => u.Email == email).Select(u => u.EmailConfirmed).SingleAsync());
}
