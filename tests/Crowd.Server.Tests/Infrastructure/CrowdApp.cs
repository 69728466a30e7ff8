using System.Net.Http.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Audit;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Infrastructure;

/// <summary>The server, in process, on its own real PostgreSQL database. One per test class (IClassFixture).</summary>
public class CrowdApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    public CrowdApp()
    {
    }

    /// <summary>A server on the database of another: several nodes of one platform.</summary>
    protected CrowdApp(string connectionString) => ConnectionString = connectionString;

    /// <summary>The database as its superuser sees it: for tests that act as an operator, or as an attacker with full access.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The connection the server itself uses: the application role.</summary>
    public string ApplicationConnectionString { get; private set; } = "";

    public virtual async Task InitializeAsync()
    {
        if (ConnectionString.Length == 0)
        {
            ConnectionString = await TestPostgres.CreateDatabaseAsync();
        }
        ApplicationConnectionString = await TestPostgres.As(ConnectionString, DatabaseRole.Application);
        _ownerConnectionString = await TestPostgres.As(ConnectionString, DatabaseRole.Owner);
    }

    private string _ownerConnectionString = "";

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    /// <summary>Stops the server and closes its idle connections, so the shared test cluster's slots go to the next class.</summary>
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var connectionString in new[] { ConnectionString, ApplicationConnectionString, _ownerConnectionString }.Where(c => c.Length > 0))
        {
            Npgsql.NpgsqlConnection.ClearPool(new Npgsql.NpgsqlConnection(connectionString));
        }
        GC.SuppressFinalize(this);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Crowd", ApplicationConnectionString);
        builder.UseSetting("ConnectionStrings:CrowdOwner", _ownerConnectionString);
        // Tests sign many accounts in from one address; the rate-limit tests set their own limits.
        builder.UseSetting("Crowd:RateLimits:AuthPerMinute", "100000");
        builder.UseSetting("Crowd:RateLimits:ApiPerSecond", "100000");
        // Payout runs are started by the tests that need them; the clustered schedule is proven with real processes.
        builder.UseSetting("Crowd:Scheduler:Enabled", "false");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Logging:Console:FormatterName", "simple");
    }

    public async Task<T> WithDbAsync<T>(Func<CrowdDb, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<CrowdDb>());
    }

    public async Task WithDbAsync(Func<CrowdDb, Task> work)
    {
        await using var scope = Services.CreateAsyncScope();
        await work(scope.ServiceProvider.GetRequiredService<CrowdDb>());
    }

    /// <summary>Walks the audit chain with the server's own audit key; null when every link holds.</summary>
    public Task<AuditBreak?> VerifyAuditLogAsync() =>
        WithDbAsync(db => AuditLog.VerifyAsync(db, Services.GetRequiredService<AuditKey>(), CancellationToken.None));

    /// <summary>Creates an account directly (no HTTP), e.g. an admin, which has no public sign-up.</summary>
    public async Task<CrowdUser> CreateUserAsync(string role, string? email = null, string password = TestAccounts.Password,
        Guid? organisationId = null, DateOnly? dateOfBirth = null)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<CrowdUser>>();
        var user = new CrowdUser
        {
            Id = Guid.CreateVersion7(),
            UserName = email ?? TestAccounts.NewEmail(role),
            Email = email ?? TestAccounts.NewEmail(role),
            DisplayName = "Test " + role,
            DateOfBirth = dateOfBirth ?? new DateOnly(1990, 1, 1),
            OrganisationId = organisationId,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        user.Email = user.UserName;
        (await users.CreateAsync(user, password)).Succeeded.ShouldBeTrue();
        (await users.AddToRoleAsync(user, role)).Succeeded.ShouldBeTrue();
        return user;
    }

    /// <summary>The Cookie header of a fresh sign-in, for clients that set headers themselves (hub WebSockets).</summary>
    public async Task<string> CookieHeaderAsync(string email, string password = TestAccounts.Password)
    {
        var http = CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, AllowAutoRedirect = false, BaseAddress = ClientOptions.BaseAddress });
        var response = await http.PostAsJsonAsync("/api/accounts/signin", new { email, password });
        response.EnsureSuccessStatusCode();
        return string.Join("; ", response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
    }

    /// <summary>A client with its own cookie jar that does not follow redirects, so tests see them.</summary>
    public HttpClient AnonymousClient() =>
        CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = ClientOptions.BaseAddress });

    /// <summary>A client whose cookie belongs to the given account, signed in through the real sign-in endpoint.</summary>
    public async Task<HttpClient> SignedInClientAsync(string email, string password = TestAccounts.Password)
    {
        var client = AnonymousClient();
        var response = await client.PostAsJsonAsync("/api/accounts/signin", new { email, password });
        response.EnsureSuccessStatusCode();
        return client;
    }
}

public static class TestAccounts
{
    public const string Password = "correct horse battery";

    public static string NewEmail(string role) => $"{role}-{Guid.NewGuid():N}@example.test";
}
