using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Identity;

namespace Crowd.Server.Features.Accounts;

public enum SignInOutcome
{
    SignedIn,
    WrongCredentials,
    LockedOut,
}

/// <summary>Sign-up and sign-in, shared by the JSON API and the pages so both follow one set of rules.</summary>
public sealed class AccountService(CrowdDb db, UserManager<CrowdUser> users, SignInManager<CrowdUser> signIn, TimeProvider clock)
{
    public async Task<(CrowdUser? User, List<FieldError> Errors)> SignUpAsync(SignUpRequest request, CancellationToken ct)
    {
        var errors = AccountRules.Validate(request, DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime));
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var now = clock.GetUtcNow();
        var user = new CrowdUser
        {
            Id = Guid.CreateVersion7(),
            Email = request.Email!.Trim(),
            UserName = request.Email!.Trim(),
            DisplayName = request.DisplayName!.Trim(),
            DateOfBirth = request.DateOfBirth!.Value,
            PreferredCulture = request.PreferredLanguage == "zh-Hans" ? "zh-Hans" : "en",
            CreatedAt = now,
        };

        // The organisation, the account and its role land together or not at all.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (request.Role is Roles.Requester or Roles.Supplier)
        {
            var organisation = new Organisation
            {
                Id = Guid.CreateVersion7(),
                Name = request.OrganisationName!.Trim(),
                Kind = request.Role == Roles.Requester ? OrganisationKind.Requester : OrganisationKind.Supplier,
                CreatedAt = now,
            };
            db.Organisations.Add(organisation);
            await db.SaveChangesAsync(ct);
            user.OrganisationId = organisation.Id;
        }

        var created = await users.CreateAsync(user, request.Password!);
        if (!created.Succeeded)
        {
            return (null, created.Errors.Select(ToFieldError).ToList());
        }
        var role = await users.AddToRoleAsync(user, request.Role!);
        if (!role.Succeeded)
        {
            return (null, role.Errors.Select(ToFieldError).ToList());
        }
        await tx.CommitAsync(ct);
        return (user, errors);
    }

    public async Task<(SignInOutcome Outcome, Guid? UserId)> SignInAsync(string? email, string? password, bool persistent)
    {
        // An address no account can have is not looked up: the database cannot even compare some of its characters.
        var user = string.IsNullOrWhiteSpace(email) || string.IsNullOrEmpty(password) || TextRules.Find(email, TextKind.Line) is not null
            ? null : await users.FindByEmailAsync(email.Trim());
        if (user is null)
        {
            return (SignInOutcome.WrongCredentials, null);
        }
        var result = await signIn.PasswordSignInAsync(user, password!, persistent, lockoutOnFailure: true);
        return result.Succeeded ? (SignInOutcome.SignedIn, user.Id)
            : result.IsLockedOut ? (SignInOutcome.LockedOut, null)
            : (SignInOutcome.WrongCredentials, null);
    }

    public Task SignInAsync(CrowdUser user) => signIn.SignInAsync(user, isPersistent: false);

    public Task SignOutAsync() => signIn.SignOutAsync();

    /// <summary>Identity's own errors, phrased for a person and keyed by the field they concern.</summary>
    private static FieldError ToFieldError(IdentityError error) => error.Code switch
    {
        nameof(IdentityErrorDescriber.DuplicateEmail) or nameof(IdentityErrorDescriber.DuplicateUserName) =>
            new("email", "An account with this email address already exists. Sign in instead."),
        nameof(IdentityErrorDescriber.InvalidEmail) or nameof(IdentityErrorDescriber.InvalidUserName) =>
            new("email", "Enter a valid email address, like name@example.com."),
        nameof(IdentityErrorDescriber.PasswordTooShort) => new("password", "Choose a password of at least {0} characters.", 10),
        nameof(IdentityErrorDescriber.PasswordRequiresDigit) => new("password", "Add at least one digit to the password."),
        nameof(IdentityErrorDescriber.PasswordRequiresLower) => new("password", "Add at least one lower-case letter to the password."),
        nameof(IdentityErrorDescriber.PasswordRequiresUniqueChars) => new("password", "Use more different characters in the password."),
        _ => new("password", "The password does not meet the rules: {0}", error.Description),
    };
}
