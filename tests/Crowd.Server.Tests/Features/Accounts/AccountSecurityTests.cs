using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.ApiKeys;
using Crowd.Server.Infrastructure.Mail;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Accounts;

/// <summary>The server on a clock the test moves, with callers from addresses the test chooses.</summary>
public sealed class AccountSecurityApp : CrowdApp
{
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(s =>
        {
            s.AddSingleton<TimeProvider>(Time);
            s.AddSingleton<IStartupFilter, ClientAddressFromHeader>();
        });
    }

    /// <summary>A client with its own cookie jar whose requests come from the given address.</summary>
    public HttpClient From(string address)
    {
        var client = AnonymousClient();
        client.DefaultRequestHeaders.Add(ClientAddressFromHeader.Header, address);
        return client;
    }
}

public sealed class AccountSecurityTests(AccountSecurityApp app) : IClassFixture<AccountSecurityApp>
{
    [Fact]
    public async Task WrongPasswordsSlowTheNextAttemptDownMoreAndMoreInsteadOfLockingTheAccount()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        var client = app.From(ClientAddressFromHeader.NewAddress());
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            (await SignInAsync(client, user.Email!, "wrong password " + attempt)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }

        var waits = new List<int>();
        for (var round = 0; round < 3; round++)
        {
            using var held = await SignInAsync(client, user.Email!, TestAccounts.Password);
            held.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests, "a throttled attempt is not looked at, even with the right password");
            var wait = int.Parse(held.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture);
            (await held.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail.ShouldBe($"Too many failed sign-ins. Wait {wait} seconds and try again.");
            waits.Add(wait);
            app.Time.Advance(TimeSpan.FromSeconds(wait));
            (await SignInAsync(client, user.Email!, "still wrong")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        }
        waits.ShouldBe([1, 2, 4]);

        app.Time.Advance(TimeSpan.FromSeconds(8));
        (await SignInAsync(client, user.Email!, TestAccounts.Password)).StatusCode.ShouldBe(HttpStatusCode.OK, "the account was never locked");
    }

    [Fact]
    public async Task StrangersGuessingFromManyAddressesCannotKeepTheOwnerOut()
    {
        var owner = await app.CreateUserAsync(Roles.Contributor);
        var ownerAddress = ClientAddressFromHeader.NewAddress();
        var ownersLaptop = app.From(ownerAddress);
        (await SignInAsync(ownersLaptop, owner.Email!, TestAccounts.Password)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ownersLaptop.PostAsync("/api/accounts/signout", null)).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var strangerAnswers = new List<HttpStatusCode>();
        for (var stranger = 0; stranger < 4; stranger++)
        {
            var client = app.From(ClientAddressFromHeader.NewAddress());
            for (var attempt = 0; attempt < 8; attempt++)
            {
                strangerAnswers.Add((await SignInAsync(client, owner.Email!, $"guess {stranger}-{attempt}")).StatusCode);
            }
        }
        strangerAnswers.ShouldAllBe(s => s == HttpStatusCode.Unauthorized || s == HttpStatusCode.TooManyRequests);
        strangerAnswers.ShouldContain(HttpStatusCode.TooManyRequests);

        (await SignInAsync(ownersLaptop, owner.Email!, TestAccounts.Password)).StatusCode
            .ShouldBe(HttpStatusCode.OK, "a browser that signed in to the account before is not held back by strangers' failures");

        var ownersNewPhone = app.From(ClientAddressFromHeader.NewAddress());
        using var held = await SignInAsync(ownersNewPhone, owner.Email!, TestAccounts.Password);
        held.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        int.Parse(held.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture).ShouldBeInRange(1, 60);
        app.Time.Advance(TimeSpan.FromSeconds(60));
        (await SignInAsync(ownersNewPhone, owner.Email!, TestAccounts.Password)).StatusCode
            .ShouldBe(HttpStatusCode.OK, "a new device waits a minute at most, never a lockout");
    }

    [Fact]
    public async Task GuessingAtAnAccountThatExistsAndOneThatDoesNotGetsTheSameAnswers()
    {
        var existing = await app.CreateUserAsync(Roles.Contributor);
        var unknown = TestAccounts.NewEmail("nobody");

        var forExisting = await GuessSevenTimesAsync(existing.Email!);
        var forUnknown = await GuessSevenTimesAsync(unknown);

        forUnknown.ShouldBe(forExisting);
        forExisting.Select(a => a.Status).ShouldBe([401, 401, 401, 401, 401, 429, 429]);
    }

    [Fact]
    public async Task SigningUpWithAnAddressThatHasAnAccountAnswersLikeANewSignUpAndMailsTheOwnerInstead()
    {
        var owner = await app.CreateUserAsync(Roles.Contributor);
        var newcomer = TestAccounts.NewEmail("new");

        using var forNew = await app.From(ClientAddressFromHeader.NewAddress()).PostAsJsonAsync("/api/accounts/signup",
            new SignUpRequest(newcomer, "a brand new passphrase", "Li Wei", new DateOnly(1999, 5, 17), Roles.Contributor));
        using var forExisting = await app.From(ClientAddressFromHeader.NewAddress()).PostAsJsonAsync("/api/accounts/signup",
            new SignUpRequest(owner.Email, "a brand new passphrase", "Li Wei", new DateOnly(1999, 5, 17), Roles.Contributor));

        forExisting.StatusCode.ShouldBe(forNew.StatusCode);
        forNew.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await forExisting.Content.ReadAsStringAsync()).ShouldBe(await forNew.Content.ReadAsStringAsync());
        forNew.Headers.Contains("Set-Cookie").ShouldBeFalse();
        forExisting.Headers.Contains("Set-Cookie").ShouldBeFalse();
        forExisting.Headers.Location.ShouldBe(forNew.Headers.Location);

        var ownersMail = await MailToAsync(owner.Email!);
        ownersMail.Single().Subject.ShouldBe("Someone tried to sign up to Crowd with your email address");
        ownersMail.Single().Body.ShouldContain("http://localhost:5000/Account/SignIn");
        (await MailToAsync(newcomer)).Single().Subject.ShouldBe("Welcome to Crowd");
        (await app.WithDbAsync(db => db.Users.CountAsync(u => u.Email == owner.Email))).ShouldBe(1);
        (await SignInAsync(app.From(ClientAddressFromHeader.NewAddress()), owner.Email!, "a brand new passphrase")).StatusCode
            .ShouldBe(HttpStatusCode.Unauthorized, "the attempt changed nothing");
        (await SignInAsync(app.From(ClientAddressFromHeader.NewAddress()), owner.Email!, TestAccounts.Password)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await SignInAsync(app.From(ClientAddressFromHeader.NewAddress()), newcomer, "a brand new passphrase")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task TheSignUpPageLeadsAnExistingAddressExactlyWhereItLeadsANewOne()
    {
        var owner = await app.CreateUserAsync(Roles.Contributor);

        async Task<(HttpStatusCode, string?)> SignUpPageAsync(string email)
        {
            using var response = await app.From(ClientAddressFromHeader.NewAddress()).SubmitAsync("/Account/SignUp",
                ("Email", email), ("Password", "a brand new passphrase"), ("DisplayName", "Wang Fang"), ("DateOfBirth", "2001-03-09"),
                ("Role", Roles.Contributor));
            return (response.StatusCode, response.Headers.Location?.ToString());
        }

        var existing = await SignUpPageAsync(owner.Email!);
        var fresh = await SignUpPageAsync(TestAccounts.NewEmail("page"));

        existing.ShouldBe(fresh);
        fresh.ShouldBe((HttpStatusCode.Redirect, "/Account/SignIn?signedUp=true&returnUrl=%2F"));
    }

    [Fact]
    public async Task ShortAndCommonPasswordsAreRefusedAtSignUpNamingThePasswordField()
    {
        foreach (var (password, message) in new[]
        {
            ("password12", "Choose a password of at least 12 characters."),
            ("password1234", "This password is on the list of common and leaked passwords that attackers try first. Choose a few unrelated words instead."),
            ("Sunshine2024!", "This password is on the list of common and leaked passwords that attackers try first. Choose a few unrelated words instead."),
            ("123456789012", "This password is a repeated or counted sequence. Choose a few unrelated words instead."),
        })
        {
            var email = TestAccounts.NewEmail("weak");
            using var response = await app.From(ClientAddressFromHeader.NewAddress()).PostAsJsonAsync("/api/accounts/signup",
                new SignUpRequest(email, password, "Li Wei", new DateOnly(1999, 5, 17), Roles.Contributor));

            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, password);
            (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["password"].ShouldBe([message]);
            (await app.WithDbAsync(db => db.Users.AnyAsync(u => u.Email == email))).ShouldBeFalse();
        }
    }

    [Fact]
    public async Task ACookieCapturedBeforeSignOutStopsWorkingWithinAMinute()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        var bystander = await app.CreateUserAsync(Roles.Contributor);
        var captured = await CookieOfAsync(user.Email!);
        var bystandersCookie = await CookieOfAsync(bystander.Email!);
        (await MeAsync(captured)).ShouldBe(HttpStatusCode.OK);

        using (var signOut = new HttpRequestMessage(HttpMethod.Post, "/api/accounts/signout"))
        {
            signOut.Headers.Add("Cookie", captured);
            (await RawClient().SendAsync(signOut)).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }
        app.Time.Advance(TimeSpan.FromSeconds(61));

        (await MeAsync(captured)).ShouldBe(HttpStatusCode.Unauthorized, "signing out changed the security stamp the old cookie carries");
        (await MeAsync(bystandersCookie)).ShouldBe(HttpStatusCode.OK, "other accounts' cookies live on");
    }

    [Fact]
    public async Task GuessingApiKeysFromOneAddressEndsIn429WhileRealKeysKeepWorking()
    {
        var address = ClientAddressFromHeader.NewAddress();
        var requester = await app.RequesterAsync();
        var key = (await (await requester.Client.PostAsJsonAsync("/api/api-keys", new CreateApiKeyRequest("pipeline")))
            .Content.ReadFromJsonAsync<CreatedApiKeyResponse>())!.Key;
        var guesser = app.From(address);

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 120; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/accounts/me");
            request.Headers.Add(ApiKeyFormat.Header, $"crowd_{i:x12}_not-a-real-secret");
            answers.Add((await guesser.SendAsync(request)).StatusCode);
        }

        answers.Count(a => a == HttpStatusCode.Unauthorized).ShouldBe(20);
        answers.Skip(20).ShouldAllBe(a => a == HttpStatusCode.TooManyRequests);
        using var real = new HttpRequestMessage(HttpMethod.Get, "/api/accounts/me");
        real.Headers.Add(ApiKeyFormat.Header, key);
        (await guesser.SendAsync(real)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private async Task<List<(int Status, string? Detail)>> GuessSevenTimesAsync(string email)
    {
        var client = app.From(ClientAddressFromHeader.NewAddress());
        var answers = new List<(int, string?)>();
        for (var i = 0; i < 7; i++)
        {
            using var response = await SignInAsync(client, email, "a wrong guess " + i);
            answers.Add(((int)response.StatusCode, (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail));
        }
        return answers;
    }

    private static Task<HttpResponseMessage> SignInAsync(HttpClient client, string email, string password) =>
        client.PostAsJsonAsync("/api/accounts/signin", new SignInRequest(email, password));

    private Task<List<OutboxMail>> MailToAsync(string address) =>
        app.WithDbAsync(db => db.MailOutbox.AsNoTracking().Where(m => m.ToAddress == address).ToListAsync());

    private HttpClient RawClient()
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Add(ClientAddressFromHeader.Header, "198.19.255.1");
        return client;
    }

    private async Task<string> CookieOfAsync(string email)
    {
        using var response = await RawClient().PostAsJsonAsync("/api/accounts/signin", new SignInRequest(email, TestAccounts.Password));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(AccountsSetup.CookieName + "=", StringComparison.Ordinal)).Split(';')[0];
    }

    private async Task<HttpStatusCode> MeAsync(string cookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/accounts/me");
        request.Headers.Add("Cookie", cookie);
        return (await RawClient().SendAsync(request)).StatusCode;
    }
}
