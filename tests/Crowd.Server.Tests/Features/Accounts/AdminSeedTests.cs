using System.Net.Http.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.Accounts;

/// <summary>The server with an operator-configured admin.</summary>
public sealed class AdminConfiguredApp : CrowdApp
{
    public const string Email = "operator-admin@example.test";
    public const string Password = "a long admin passphrase";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crowd:Admin:Email", Email);
        builder.UseSetting("Crowd:Admin:Password", Password);
    }
}

public sealed class AdminSeedTests(AdminConfiguredApp app) : IClassFixture<AdminConfiguredApp>
{
    [Fact]
    public async Task TheConfiguredAdminExistsOnceAfterTwoStartsAndCanSignIn()
    {
        _ = app.Services; // first start
        await using (var secondStart = app.WithWebHostBuilder(_ => { }))
        {
            _ = secondStart.Services;
            await using var scope = secondStart.Services.CreateAsyncScope();
            (await AdminSeed.EnsureAdminAsync(scope.ServiceProvider, CancellationToken.None)).ShouldBe(AdminSeedOutcome.AlreadyExists);
        }

        (await app.WithDbAsync(db => db.Users.CountAsync(u => u.Email == AdminConfiguredApp.Email))).ShouldBe(1);
        var client = await app.SignedInClientAsync(AdminConfiguredApp.Email, AdminConfiguredApp.Password);
        (await client.GetFromJsonAsync<AccountResponse>("/api/accounts/me"))!.Roles.ShouldBe([Roles.Admin]);
    }

    [Fact]
    public async Task AConfiguredAddressThatBelongsToASignedUpAccountIsNotMadeAdmin()
    {
        var contributor = await app.CreateUserAsync(Roles.Contributor);

        await using var restarted = app.WithWebHostBuilder(b => b.UseSetting("Crowd:Admin:Email", contributor.Email));
        _ = restarted.Services;
        await using var scope = restarted.Services.CreateAsyncScope();
        (await AdminSeed.EnsureAdminAsync(scope.ServiceProvider, CancellationToken.None)).ShouldBe(AdminSeedOutcome.TakenByAnotherAccount);

        var client = await app.SignedInClientAsync(contributor.Email!);
        (await client.GetFromJsonAsync<AccountResponse>("/api/accounts/me"))!.Roles.ShouldBe([Roles.Contributor]);
    }

    [Fact]
    public async Task WithoutConfigurationNoAdminIsCreated()
    {
        await using var plain = new CrowdApp();
        await plain.InitializeAsync();
        await using var scope = plain.Services.CreateAsyncScope();

        (await AdminSeed.EnsureAdminAsync(scope.ServiceProvider, CancellationToken.None)).ShouldBe(AdminSeedOutcome.NotConfigured);
        (await plain.WithDbAsync(db => db.UserRoles.CountAsync(r => r.RoleId == Guid.Parse("00000000-0000-0000-0000-00000000c004")))).ShouldBe(0);
    }
}
