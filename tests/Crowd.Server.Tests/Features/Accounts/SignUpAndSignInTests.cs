using System.Net;
using System.Net.Http.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Crowd.Server.Tests.Features.Accounts;

public sealed class SignUpAndSignInTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Theory]
    [InlineData(Roles.Contributor, null)]
    [InlineData(Roles.Requester, "Acme Speech AI")]
    [InlineData(Roles.Supplier, "Good Recruiters Ltd")]
    public async Task EachRoleCanSignUpAndThenSignIn(string role, string? organisation)
    {
        var email = TestAccounts.NewEmail(role);
        var client = app.AnonymousClient();

        var signUp = await client.PostAsJsonAsync("/api/accounts/signup", new SignUpRequest(
            email, TestAccounts.Password, "Li Wei", new DateOnly(1999, 5, 17), role, organisation));
        signUp.StatusCode.ShouldBe(HttpStatusCode.Accepted);

        var signedIn = await app.SignedInClientAsync(email);
        var me = await signedIn.GetFromJsonAsync<AccountResponse>("/api/accounts/me");
        me!.Email.ShouldBe(email);
        me.Roles.ShouldBe([role]);
        me.OrganisationName.ShouldBe(organisation);
    }

    [Fact]
    public async Task AnAdminCreatedByTheOperatorCanSignIn()
    {
        var admin = await app.CreateUserAsync(Roles.Admin);

        var client = await app.SignedInClientAsync(admin.Email!);

        (await client.GetFromJsonAsync<AccountResponse>("/api/accounts/me"))!.Roles.ShouldBe([Roles.Admin]);
    }

    [Fact]
    public async Task SignUpWithBadFieldsIsRefusedWithProblemDetailsAndWritesNothing()
    {
        var email = TestAccounts.NewEmail("bad");
        var response = await app.CreateClient().PostAsJsonAsync("/api/accounts/signup",
            new SignUpRequest(email, TestAccounts.Password, "", new DateOnly(2100, 1, 1), Roles.Requester, " "));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        problem!.Errors.Keys.ShouldBe(["displayName", "dateOfBirth", "organisationName"], ignoreOrder: true);
        (await app.WithDbAsync(db => Task.FromResult(db.Users.Any(u => u.Email == email)))).ShouldBeFalse();
    }

    [Fact]
    public async Task ErrorsComeInChineseWhenTheBrowserAsksForIt()
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN,zh;q=0.9,en;q=0.5");

        var response = await client.PostAsJsonAsync("/api/accounts/signin", new SignInRequest("nobody@example.test", "wrong password"));

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail.ShouldBe("邮箱或密码错误。");
    }
}
