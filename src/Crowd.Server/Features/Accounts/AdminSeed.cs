using Crowd.Server.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Accounts;

/// <summary>Admins have no public sign-up: the operator names one in configuration (Crowd:Admin) and it exists after start.</summary>
public static class AdminSeed
{
    /// <summary>The accounts' start-up step, after migrations: the admin named in configuration exists.</summary>
    public static async Task UseAccountsAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await EnsureAdminAsync(scope.ServiceProvider, app.Lifetime.ApplicationStopping);
    }

    /// <summary>Creates the configured admin when missing. Idempotent; an existing account is never changed.</summary>
    public static async Task<AdminSeedOutcome> EnsureAdminAsync(IServiceProvider services, CancellationToken ct)
    {
        var options = services.GetRequiredService<IOptions<CrowdOptions>>().Value.Admin;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AdminSeed).FullName!);
        if (string.IsNullOrWhiteSpace(options.Email) || string.IsNullOrEmpty(options.Password))
        {
            return AdminSeedOutcome.NotConfigured;
        }

        var users = services.GetRequiredService<UserManager<CrowdUser>>();
        var email = options.Email.Trim();
        var existing = await users.FindByEmailAsync(email);
        if (existing is not null)
        {
            if (await users.IsInRoleAsync(existing, Roles.Admin))
            {
                logger.LogInformation("Admin account {Email} already exists", email);
                return AdminSeedOutcome.AlreadyExists;
            }
            // Promoting a self-registered account because its address matches the configuration would hand admin to whoever signed up first.
            logger.LogWarning("Crowd:Admin:Email {Email} belongs to an account that is not an admin; it was left unchanged", email);
            return AdminSeedOutcome.TakenByAnotherAccount;
        }

        ct.ThrowIfCancellationRequested();
        var admin = new CrowdUser
        {
            Id = Guid.CreateVersion7(),
            Email = email,
            UserName = email,
            EmailConfirmed = true,
            DisplayName = "Administrator",
            // Admins never consent to jobs, so the age rules never read this; the column requires a value.
            DateOfBirth = DateOnly.MinValue,
            CreatedAt = services.GetRequiredService<TimeProvider>().GetUtcNow(),
        };
        var created = await users.CreateAsync(admin, options.Password);
        if (!created.Succeeded)
        {
            if (created.Errors.Any(e => e.Code is nameof(IdentityErrorDescriber.DuplicateEmail) or nameof(IdentityErrorDescriber.DuplicateUserName)))
            {
                // Another node seeding at the same moment won the race.
                logger.LogInformation("Admin account {Email} already exists", email);
                return AdminSeedOutcome.AlreadyExists;
            }
            throw new InvalidOperationException(
                $"The admin account {email} from Crowd:Admin could not be created: {string.Join(" ", created.Errors.Select(e => e.Description))}");
        }
        var role = await users.AddToRoleAsync(admin, Roles.Admin);
        if (!role.Succeeded)
        {
            throw new InvalidOperationException(
                $"The admin account {email} was created but not given the admin role: {string.Join(" ", role.Errors.Select(e => e.Description))}");
        }
        logger.LogInformation("Admin account {Email} created from configuration", email);
        return AdminSeedOutcome.Created;
    }
}

public enum AdminSeedOutcome
{
    NotConfigured,
    Created,
    AlreadyExists,
    TakenByAnotherAccount,
}
