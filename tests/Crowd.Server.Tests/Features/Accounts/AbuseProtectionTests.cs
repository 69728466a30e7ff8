using System.Net;
using System.Net.Http.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace Crowd.Server.Tests.Features.Accounts;

public sealed class AbuseProtectionTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task PostingTheSignUpPageWithoutItsAntiforgeryTokenIsRejected()
    {
        var email = TestAccounts.NewEmail("csrf");
        var client = app.AnonymousClient();

        var response = await client.PostFormAsync("/Account/SignUp", token: null,
            ("Email", email), ("Password", TestAccounts.Password), ("DisplayName", "Forged"), ("DateOfBirth", "1990-01-01"), ("Role", Roles.Contributor));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await app.WithDbAsync(db => Task.FromResult(db.Users.Any(u => u.Email == email)))).ShouldBeFalse();
    }

    [Fact]
    public async Task SigningOutThroughThePageNeedsItsAntiforgeryToken()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        var client = await app.SignedInClientAsync(user.Email!);

        (await client.PostFormAsync("/Account/SignOut", token: null)).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await client.GetAsync("/api/accounts/me")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var signedOut = await client.SubmitAsync("/Account/SignOut");
        signedOut.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await client.GetAsync("/api/accounts/me")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task TheSignInCookieIsHttpOnlyAndSameSiteLax()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        var api = await app.AnonymousClient().PostAsJsonAsync("/api/accounts/signin", new SignInRequest(user.Email, TestAccounts.Password));
        var page = await app.AnonymousClient().SubmitAsync("/Account/SignIn", ("Email", user.Email), ("Password", TestAccounts.Password));

        foreach (var response in new[] { api, page })
        {
            var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("crowd.auth=", StringComparison.Ordinal));
            var attributes = cookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
            attributes.ShouldContain("httponly");
            attributes.ShouldContain("samesite=lax");
            attributes.ShouldContain("path=/");
        }
    }
}

/// <summary>The server with a sign-in limit of 3 attempts a minute, so the limit is reached in a few requests.</summary>
public sealed class LowAuthLimitApp : CrowdApp
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crowd:RateLimits:AuthPerMinute", "3");
    }
}

public sealed class AuthRateLimitTests(LowAuthLimitApp app) : IClassFixture<LowAuthLimitApp>
{
    // One test only: every request of this class comes from the same address and so shares one limit.
    [Fact]
    public async Task SignInAndSignUpAttemptsFromOneAddressShareALimitAndTheFourthGets429WithRetryAfter()
    {
        var client = app.AnonymousClient();
        // Showing the forms is not an attempt.
        for (var i = 0; i < 5; i++)
        {
            (await client.GetAsync("/Account/SignIn")).StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        var signUpToken = await client.AntiforgeryTokenAsync("/Account/SignUp");

        (await client.PostAsJsonAsync("/api/accounts/signin", new SignInRequest("nobody@example.test", "wrong password")))
            .StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await client.PostAsJsonAsync("/api/accounts/signup", new SignUpRequest(null, null, null, null, null)))
            .StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await client.PostFormAsync("/Account/SignUp", signUpToken, ("Email", "not an address")))
            .StatusCode.ShouldBe(HttpStatusCode.OK);

        var limitedPage = await client.PostFormAsync("/Account/SignUp", signUpToken, ("Email", "not an address"));
        var limitedApi = await client.PostAsJsonAsync("/api/accounts/signin", new SignInRequest("nobody@example.test", "wrong password"));

        foreach (var limited in new[] { limitedPage, limitedApi })
        {
            limited.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
            limited.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture).ShouldBeInRange(1, 60);
            (await limited.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail.ShouldBe("Too many requests. Wait a moment and try again.");
        }
    }
}
