using System.Security.Cryptography;
using Crowd.Server.Features.Accounts.Throttling;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Mail;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Accounts;

public enum SignInOutcome
{
    SignedIn,
    WrongCredentials,
    /// <summary>Too many recent failures for this account or address: the attempt was not looked at.</summary>
    Throttled,
}

public sealed record SignInAttempt(SignInOutcome Outcome, Guid? UserId = null, TimeSpan RetryAfter = default)
{
    /// <summary>Whole seconds to tell a person or a Retry-After header: rounded up, so trying again then works.</summary>
    public static int Seconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
}

/// <summary>Sign-up and sign-in, shared by the JSON API and the pages so both follow one set of rules.</summary>
public sealed class AccountService(CrowdDb db, UserManager<CrowdUser> users, SignInManager<CrowdUser> signIn, SignInThrottle throttle,
    Outbox outbox, Recovery.AccountRecovery recovery, IDataProtectionProvider protection, IOptions<CrowdOptions> options, IStringLocalizer<AccountsText> text, TimeProvider clock)
{
    private const string KnownDeviceCookie = "crowd.device";
    private static readonly TimeSpan s_knownDeviceLifetime = TimeSpan.FromDays(365);
    private static string? s_unknownUserHash;

    /// <summary>
    /// Creates the account and mails its owner, or, when the address already has an account, mails that account's owner
    /// instead. The answer is the same either way, so sign-up cannot be used to find out who has an account.
    /// </summary>
    /// <returns>The errors of the request; none when it was accepted.</returns>
    public async Task<List<FieldError>> SignUpAsync(SignUpRequest request, CancellationToken ct)
    {
        var errors = AccountRules.Validate(request, DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime));
        if (errors.Count > 0)
        {
            return errors;
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
        if (await users.FindByEmailAsync(user.Email) is { } existing)
        {
            // As long as creating the account would have taken.
            users.PasswordHasher.HashPassword(existing, request.Password!);
            await MailExistingOwnerAsync(existing, ct);
            return [];
        }

        // The organisation, the account, its role and its welcome mail land together or not at all.
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
            await tx.RollbackAsync(ct);
            if (created.Errors.Any(e => e.Code is nameof(IdentityErrorDescriber.DuplicateEmail) or nameof(IdentityErrorDescriber.DuplicateUserName))
                && await users.FindByEmailAsync(user.Email) is { } raced)
            {
                await MailExistingOwnerAsync(raced, ct);
                return [];
            }
            return created.Errors.Select(ToFieldError).ToList();
        }
        var role = await users.AddToRoleAsync(user, request.Role!);
        if (!role.Succeeded)
        {
            return role.Errors.Select(ToFieldError).ToList();
        }
        await InCultureAsync(user.PreferredCulture, async () => await outbox.EnqueueAsync(user.Email, text["Welcome to Crowd"],
            string.Join("\n\n",
                text["Your Crowd account for {0} is ready.", user.Email],
                await recovery.ConfirmationLineAsync(user),
                text["Sign in with this email address and the password you chose:"] + "\n" + Link("/Account/SignIn"),
                text["Signing up does not consent to any job or to any use of your voice. Every job asks for your consent separately, and you can withdraw it at any time."],
                text["If you did not sign up, ignore this mail."]),
            ct));
        await tx.CommitAsync(ct);
        return [];
    }

    public async Task<SignInAttempt> SignInAsync(string? email, string? password, bool persistent, CancellationToken ct)
    {
        var http = signIn.Context;
        var address = WebSetup.ClientAddress(http);
        var normalized = users.NormalizeEmail(email?.Trim()) ?? "";
        // An address no account can have is not looked up: the database cannot even compare some of its characters.
        var user = normalized.Length == 0 || TextRules.Find(email, TextKind.Line) is not null ? null : await users.FindByEmailAsync(email!.Trim());
        var accountFromAddress = SignInThrottle.Key(ThrottleScope.AccountFromAddress, normalized, address);
        List<ThrottleKey> keys = [accountFromAddress, SignInThrottle.Key(ThrottleScope.Address, normalized, address)];
        if (user is null || KnownDevice(http) != user.Id)
        {
            keys.Add(SignInThrottle.Key(ThrottleScope.Account, normalized, address));
        }

        var wait = await throttle.WaitAsync(keys, ct);
        if (wait > TimeSpan.Zero)
        {
            return new SignInAttempt(SignInOutcome.Throttled, RetryAfter: wait);
        }

        if (user is null || string.IsNullOrEmpty(password))
        {
            // Checking a password takes a noticeable moment; an unknown address takes it too, so timing tells nothing.
            users.PasswordHasher.VerifyHashedPassword(new CrowdUser(), s_unknownUserHash ??= users.PasswordHasher.HashPassword(new CrowdUser(), Guid.NewGuid().ToString()), password ?? "");
            await throttle.FailedAsync(keys, ct);
            return new SignInAttempt(SignInOutcome.WrongCredentials);
        }
        var result = await signIn.PasswordSignInAsync(user, password, persistent, lockoutOnFailure: false);
        if (!result.Succeeded)
        {
            await throttle.FailedAsync(keys, ct);
            return new SignInAttempt(SignInOutcome.WrongCredentials);
        }
        await throttle.SucceededAsync(accountFromAddress, ct);
        RememberDevice(http, user.Id);
        return new SignInAttempt(SignInOutcome.SignedIn, user.Id);
    }

    /// <summary>Ends this session and every other cookie of the account: the new security stamp fails their next check.</summary>
    public async Task SignOutAsync()
    {
        var principal = signIn.Context.User;
        if (principal.Identity?.IsAuthenticated == true && !principal.IsApiKey() && await users.GetUserAsync(principal) is { } user)
        {
            await users.UpdateSecurityStampAsync(user);
        }
        await signIn.SignOutAsync();
    }

    private async Task MailExistingOwnerAsync(CrowdUser owner, CancellationToken ct) =>
        await InCultureAsync(owner.PreferredCulture, () => outbox.EnqueueAsync(owner.Email!, text["Someone tried to sign up to Crowd with your email address"],
            string.Join("\n\n",
                text["Someone, perhaps you, tried to create a Crowd account for {0}. This address already has an account, so nothing was created or changed.", owner.Email!],
                text["If it was you, sign in with your existing password:"] + "\n" + Link("/Account/SignIn"),
                text["If it was not you, ignore this mail. Your account is safe: nobody learned that it exists."]),
            ct));

    private Uri Link(string path) => new(options.Value.PublicUrl!, path);

    /// <summary>Mail goes out in its reader's language, whatever the language of the request that causes it.</summary>
    private static async Task InCultureAsync(string culture, Func<Task> write)
    {
        using (Languages.InCulture(culture))
        {
            await write();
        }
    }

    private IDataProtector DeviceProtector => protection.CreateProtector("Crowd.Accounts.KnownDevice");

    /// <summary>The account this browser has signed in to before, if its device cookie is genuine.</summary>
    private Guid? KnownDevice(HttpContext http)
    {
        if (http.Request.Cookies[KnownDeviceCookie] is not { Length: > 0 } value)
        {
            return null;
        }
        try
        {
            return Guid.TryParse(DeviceProtector.Unprotect(value), out var id) ? id : null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    private void RememberDevice(HttpContext http, Guid userId) =>
        http.Response.Cookies.Append(KnownDeviceCookie, DeviceProtector.Protect(userId.ToString()), new CookieOptions
        {
            HttpOnly = true,
            IsEssential = true,
            SameSite = SameSiteMode.Lax,
            Secure = http.Request.IsHttps,
            Expires = clock.GetUtcNow() + s_knownDeviceLifetime,
        });

    /// <summary>Identity's own errors, phrased for a person and keyed by the field they concern.</summary>
    internal static FieldError ToFieldError(IdentityError error) => error.Code switch
    {
        nameof(IdentityErrorDescriber.InvalidEmail) or nameof(IdentityErrorDescriber.InvalidUserName) =>
            new("email", "Enter a valid email address, like name@example.com."),
        nameof(IdentityErrorDescriber.PasswordTooShort) => new("password", "Choose a password of at least {0} characters.", Passwords.PasswordRules.MinLength),
        nameof(IdentityErrorDescriber.PasswordRequiresDigit) => new("password", "Add at least one digit to the password."),
        nameof(IdentityErrorDescriber.PasswordRequiresLower) => new("password", "Add at least one lower-case letter to the password."),
        nameof(IdentityErrorDescriber.PasswordRequiresUniqueChars) => new("password", "Use more different characters in the password."),
        _ => new("password", "The password does not meet the rules: {0}", error.Description),
    };
}
