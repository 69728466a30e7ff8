using System.Net;
using System.Text.RegularExpressions;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Accounts;

/// <summary>Changing the password or the address ends every other session of the account, at its next stamp check.</summary>
public sealed class AccountRecoveryTests(AccountSecurityApp app) : IClassFixture<AccountSecurityApp>
{
    private const string NewPassword = "a brand new passphrase";

    [Fact]
    public async Task ChangingThePasswordSignsOutEveryOtherSessionButKeepsThisOne()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        var elsewhere = await app.SignedInClientAsync(user.Email!);
        var here = await app.SignedInClientAsync(user.Email!);

        var (wrongStatus, wrong) = await here.SubmitToAsync("/Account/Security", "/Account/Security?handler=Password",
            new Dictionary<string, string> { ["CurrentPassword"] = "not my password", ["Password"] = NewPassword });
        wrongStatus.ShouldBe(HttpStatusCode.OK);
        wrong.ShouldContain("Your current password is not right.");
        var (status, _) = await here.SubmitToAsync("/Account/Security", "/Account/Security?handler=Password",
            new Dictionary<string, string> { ["CurrentPassword"] = TestAccounts.Password, ["Password"] = NewPassword });
        status.ShouldBe(HttpStatusCode.Found);
        (await here.GetPageAsync("/Account/Security?done=password")).ShouldContain("data-testid=\"password-changed\"");
        app.Time.Advance(TimeSpan.FromSeconds(61));

        (await elsewhere.GetAsync("/api/accounts/me")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await here.GetAsync("/api/accounts/me")).StatusCode.ShouldBe(HttpStatusCode.OK);
        await app.SignedInClientAsync(user.Email!, NewPassword);
    }

    [Fact]
    public async Task ANewAddressTakesEffectOnlyFromTheLinkMailedToItAndThenSignsOutEveryOtherSession()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        var elsewhere = await app.SignedInClientAsync(user.Email!);
        var here = await app.SignedInClientAsync(user.Email!);
        var newAddress = TestAccounts.NewEmail("moved");

        var (status, _) = await here.SubmitToAsync("/Account/Security", "/Account/Security?handler=Email",
            new Dictionary<string, string> { ["CurrentPassword"] = TestAccounts.Password, ["Email"] = newAddress });
        status.ShouldBe(HttpStatusCode.Found);
        (await here.GetPageAsync("/Account/Security?done=email")).ShouldContain("We mailed a link to the new address.");
        (await EmailOfAsync(user.Id)).ShouldBe(user.Email, "nothing changes before the link is opened");
        var mail = await app.WithDbAsync(db => db.MailOutbox.AsNoTracking().SingleAsync(m => m.ToAddress == newAddress));
        mail.Subject.ShouldBe("Confirm your new Crowd address");
        var link = LinkIn(mail.Body, "/Account/ConfirmEmailChange");

        var opened = await app.AnonymousClient().GetPageAsync(link);

        opened.ShouldContain("data-testid=\"email-changed\"");
        (await EmailOfAsync(user.Id)).ShouldBe(newAddress);
        (await app.AnonymousClient().GetPageAsync(link)).ShouldContain("data-testid=\"link-error\"", Case.Sensitive, "the link works once");
        app.Time.Advance(TimeSpan.FromSeconds(61));
        (await elsewhere.GetAsync("/api/accounts/me")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        await app.SignedInClientAsync(newAddress);
    }

    [Fact]
    public async Task AskingForAResetAnswersTheSameForAnAddressWithoutAnAccountAndMailsNothing()
    {
        var nobody = TestAccounts.NewEmail("nobody");
        var client = app.AnonymousClient();

        var (status, html) = await client.SubmitToAsync("/Account/ForgotPassword", "/Account/ForgotPassword", new Dictionary<string, string> { ["Email"] = nobody });

        status.ShouldBe(HttpStatusCode.OK);
        html.ShouldContain("If an account has this address, we have mailed it a link to choose a new password.");
        (await app.WithDbAsync(db => db.MailOutbox.CountAsync(m => m.ToAddress == nobody))).ShouldBe(0);
    }

    /// <summary>The path and query of the link in a mail, for a client on this test server.</summary>
    public static string LinkIn(string body, string path)
    {
        var match = Regex.Match(body, "https?://[^/\\s]+(" + Regex.Escape(path) + "\\?\\S+)");
        match.Success.ShouldBeTrue($"the mail carries a link to {path}: {body}");
        return match.Groups[1].Value;
    }

    private Task<string?> EmailOfAsync(Guid id) => app.WithDbAsync(db => db.Users.Where(u => u.Id == id).Select(u => u.Email).SingleAsync());
}
