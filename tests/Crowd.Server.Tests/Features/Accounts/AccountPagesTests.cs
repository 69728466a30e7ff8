using System.Net;
using System.Net.Http.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Accounts;

public sealed class AccountPagesTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task TheSignUpPageShowsAnAccessibleFormInEnglishWithoutAnyConsent()
    {
        var response = await app.AnonymousClient().GetAsync("/Account/SignUp");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var html = await response.Content.ReadAsStringAsync();
        html.ShouldContain("<html lang=\"en\">");
        html.ShouldContain("data-testid=\"signup-form\"");
        html.ShouldContain("data-testid=\"signup-submit\"");
        html.ShouldContain("type=\"email\" autocomplete=\"email\"");
        html.ShouldContain("type=\"password\" autocomplete=\"new-password\"");
        html.ShouldContain("type=\"date\" autocomplete=\"bday\"");
        html.ShouldContain("<label for=\"dateOfBirth\">Date of birth");
        html.ShouldContain("never shown to buyers or suppliers");
        html.ShouldContain("Signing up does not consent to any job");
        html.ShouldNotContain("type=\"checkbox\"");
        html.ShouldNotContain("data-testid=\"error-summary\"");
    }

    [Fact]
    public async Task TheSignUpPageIsInChineseWhenTheBrowserAsksForIt()
    {
        var client = app.AnonymousClient();
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN,zh;q=0.9");

        var html = await client.GetStringAsync("/Account/SignUp");

        html.ShouldContain("<html lang=\"zh-Hans\">");
        html.ShouldContain("创建账户");
        html.ShouldContain("出生日期");
        html.ShouldContain("我录制自己的声音（贡献者）");
        html.ShouldNotContain("Date of birth");
    }

    [Theory]
    [InlineData(Roles.Contributor, null, "/")]
    [InlineData(Roles.Requester, "Acme Speech AI", "/Jobs")]
    [InlineData(Roles.Supplier, "Good Recruiters Ltd", "/")]
    public async Task PostingTheSignUpFormCreatesTheAccountAndSigningInThenLeadsOn(string role, string? organisation, string expectedLocation)
    {
        var email = TestAccounts.NewEmail(role);
        var client = app.AnonymousClient();

        var response = await client.SubmitAsync("/Account/SignUp",
            ("Email", email), ("Password", TestAccounts.Password), ("DisplayName", "Wang Fang"), ("DateOfBirth", "2001-03-09"),
            ("Role", role), ("OrganisationName", organisation ?? "ignored for contributors"));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var signInPage = response.Headers.Location!.ToString();
        signInPage.ShouldBe("/Account/SignIn?signedUp=true&returnUrl=" + Uri.EscapeDataString(expectedLocation));
        (await client.GetPageAsync(signInPage)).ShouldContain("data-testid=\"signed-up\"");
        (await client.GetAsync("/api/accounts/me")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var token = await client.AntiforgeryTokenAsync(signInPage);
        using var signedIn = await client.PostFormAsync(signInPage, token,
            ("Email", email), ("Password", TestAccounts.Password), ("ReturnUrl", expectedLocation));
        signedIn.Headers.Location!.ToString().ShouldBe(expectedLocation);
        var me = (await client.GetFromJsonAsync<AccountResponse>("/api/accounts/me"))!;
        me.Email.ShouldBe(email);
        me.Roles.ShouldBe([role]);
        me.OrganisationName.ShouldBe(organisation);
        var user = await app.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Email == email));
        user.DateOfBirth.ShouldBe(new DateOnly(2001, 3, 9));
    }

    [Fact]
    public async Task ASignUpInChineseRemembersTheLanguage()
    {
        var email = TestAccounts.NewEmail("zh");
        var client = app.AnonymousClient();
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN");

        await client.SubmitAsync("/Account/SignUp", ("Email", email), ("Password", TestAccounts.Password), ("DisplayName", "王芳"),
            ("DateOfBirth", "2001-03-09"), ("Role", Roles.Contributor));

        (await app.WithDbAsync(db => db.Users.SingleAsync(u => u.Email == email))).PreferredCulture.ShouldBe("zh-Hans");
    }

    [Fact]
    public async Task SignUpErrorsAreShownNextToTheirFieldsAndTheTypedValuesAreKept()
    {
        var email = TestAccounts.NewEmail("bad");
        var client = app.AnonymousClient();

        var response = await client.SubmitAsync("/Account/SignUp",
            ("Email", email), ("Password", TestAccounts.Password), ("DisplayName", ""), ("DateOfBirth", "not a date"), ("Role", Roles.Requester));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var html = await response.Content.ReadAsStringAsync();
        html.ShouldContain("data-testid=\"error-summary\"");
        html.ShouldContain("<span id=\"displayName-error\" class=\"field-validation-error\">Enter the name you want to be called.</span>");
        html.ShouldContain("<span id=\"dateOfBirth-error\" class=\"field-validation-error\">Enter your date of birth.</span>");
        html.ShouldContain("<span id=\"organisationName-error\" class=\"field-validation-error\">Enter your organisation&#x27;s name.</span>");
        html.ShouldContain($"value=\"{email}\"");
        html.ShouldContain("aria-describedby=\"displayName-hint displayName-error\"");
        (await app.WithDbAsync(db => db.Users.AnyAsync(u => u.Email == email))).ShouldBeFalse();
    }

    [Fact]
    public async Task SignUpErrorsAreInChineseForAChineseReader()
    {
        var client = app.AnonymousClient();
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN");

        var response = await client.SubmitAsync("/Account/SignUp", ("Email", "not an address"));

        var html = await response.Content.ReadAsStringAsync();
        html.ShouldContain("请修改以下内容：");
        html.ShouldContain("请输入有效的电子邮箱地址，例如 name@example.com。");
    }

    [Fact]
    public async Task SigningInThroughThePageGoesBackToALocalReturnUrl()
    {
        var user = await app.CreateUserAsync(Roles.Requester, organisationId: await app.CreateOrganisationAsync());
        var client = app.AnonymousClient();

        var response = await client.SubmitAsync("/Account/SignIn?returnUrl=%2FJobs%2FEdit",
            ("Email", user.Email), ("Password", TestAccounts.Password), ("ReturnUrl", "/Jobs/Edit"));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldBe("/Jobs/Edit");
        (await client.GetFromJsonAsync<AccountResponse>("/api/accounts/me"))!.Email.ShouldBe(user.Email);
    }

    [Fact]
    public async Task SigningInNeverRedirectsToAnotherSite()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);

        var response = await app.AnonymousClient().SubmitAsync("/Account/SignIn",
            ("Email", user.Email), ("Password", TestAccounts.Password), ("ReturnUrl", "https://evil.example/phish"));

        response.Headers.Location!.ToString().ShouldBe("/");
    }

    [Fact]
    public async Task AWrongPasswordOnTheSignInPageSaysSoAndKeepsTheEmail()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);

        var response = await app.AnonymousClient().SubmitAsync("/Account/SignIn", ("Email", user.Email), ("Password", "not the password"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var html = await response.Content.ReadAsStringAsync();
        html.ShouldContain("data-testid=\"error-summary\"");
        html.ShouldContain("The email address or password is wrong.");
        html.ShouldContain($"value=\"{user.Email}\"");
        html.ShouldNotContain("not the password");
    }

    [Fact]
    public async Task APageForAnotherRoleLeadsToTheDeniedPage()
    {
        var contributor = await app.CreateUserAsync(Roles.Contributor);
        var client = await app.SignedInClientAsync(contributor.Email!);

        var response = await client.GetAsync("/Account/ApiKeys");

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.AbsolutePath.ShouldBe("/Account/Denied");
        var denied = await client.GetAsync(response.Headers.Location);
        denied.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await denied.Content.ReadAsStringAsync()).ShouldContain("data-testid=\"denied\"");
    }

    [Fact]
    public async Task APageThatNeedsAnAccountLeadsToSignInAndBack()
    {
        var response = await app.AnonymousClient().GetAsync("/Account/ApiKeys");

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.PathAndQuery.ShouldBe("/Account/SignIn?ReturnUrl=%2FAccount%2FApiKeys");
    }

    [Theory]
    [InlineData("/Accounts/SignUp")]
    [InlineData("/Accounts/SignIn")]
    public async Task ThePagesLiveUnderAccountOnly(string path)
    {
        (await app.AnonymousClient().GetAsync(path)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}
