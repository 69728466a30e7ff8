using System.Security.Claims;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Mail;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Accounts.Recovery;

/// <summary>
/// Proving an address, getting back into an account, and changing its address or password. Links are Identity's
/// tokens mailed through the outbox; a password reset or a change of address or password renews the security stamp,
/// which signs out every other session of the account at its next check.
/// </summary>
public sealed class AccountRecovery(UserManager<CrowdUser> users, SignInManager<CrowdUser> signIn, Outbox outbox, IOptions<CrowdOptions> options,
    IStringLocalizer<AccountsText> text)
{
    public const string ConfirmPath = "/Account/ConfirmEmail";
    public const string ResetPath = "/Account/ResetPassword";
    public const string ChangeEmailPath = "/Account/ConfirmEmailChange";

    /// <summary>How long a mailed link works: a day, long enough to find the mail, short enough that an old mail is useless.</summary>
    public const int TokenHours = 24;

    private static readonly FieldError s_usedLink = new("token", "This link was already used, has expired or is incomplete. Ask for a new one.");

    /// <summary>The line of the welcome mail that proves the address: in the sign-up's transaction, in the reader's language.</summary>
    public async Task<string> ConfirmationLineAsync(CrowdUser user) =>
        text["Confirm that this address is yours (the link works for {0} hours):", TokenHours] + "\n"
        + Link(ConfirmPath, ("user", user.Id.ToString()), ("token", await users.GenerateEmailConfirmationTokenAsync(user)));

    public async Task<IReadOnlyList<FieldError>> ConfirmEmailAsync(Guid userId, string? token)
    {
        if (await users.FindByIdAsync(userId.ToString()) is not { } user || string.IsNullOrEmpty(token))
        {
            return [s_usedLink];
        }
        return user.EmailConfirmed || (await users.ConfirmEmailAsync(user, token)).Succeeded ? [] : [s_usedLink];
    }

    /// <summary>Mails a reset link when the address has an account; the answer never says whether it has one.</summary>
    public async Task RequestPasswordResetAsync(string? email, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(email) || TextRules.Find(email, TextKind.Line) is not null || await users.FindByEmailAsync(email.Trim()) is not { } user)
        {
            return;
        }
        var link = Link(ResetPath, ("user", user.Id.ToString()), ("token", await users.GeneratePasswordResetTokenAsync(user)));
        using (Languages.InCulture(user.PreferredCulture))
        {
            await outbox.EnqueueAsync(user.Email!, text["Choose a new Crowd password"],
                string.Join("\n\n",
                    text["Someone, perhaps you, asked to reset the password of the Crowd account {0}.", user.Email!],
                    text["Choose a new password here. The link works once, for {0} hours:", TokenHours] + "\n" + link,
                    text["If it was not you, ignore this mail: your password stays as it is."]),
                ct);
        }
    }

    /// <summary>Sets the new password if the link is good; every session of the account ends. The mailed link also proves the address.</summary>
    public async Task<IReadOnlyList<FieldError>> ResetPasswordAsync(Guid userId, string? token, string? password)
    {
        if (await users.FindByIdAsync(userId.ToString()) is not { } user || string.IsNullOrEmpty(token)
            || !await users.VerifyUserTokenAsync(user, users.Options.Tokens.PasswordResetTokenProvider, UserManager<CrowdUser>.ResetPasswordTokenPurpose, token))
        {
            return [s_usedLink];
        }
        var rules = Passwords.PasswordRules.Validate(password, [user.Email, user.DisplayName]);
        if (rules.Count > 0)
        {
            return rules;
        }
        var reset = await users.ResetPasswordAsync(user, token, password!);
        if (!reset.Succeeded)
        {
            return reset.Errors.Select(AccountService.ToFieldError).ToList();
        }
        if (!user.EmailConfirmed)
        {
            user.EmailConfirmed = true;
            await users.UpdateAsync(user);
        }
        return [];
    }

    /// <summary>Changes the password of the signed-in account; this session stays signed in, every other one ends.</summary>
    public async Task<IReadOnlyList<FieldError>> ChangePasswordAsync(ClaimsPrincipal principal, string? current, string? password)
    {
        var user = await users.GetUserAsync(principal) ?? throw new InvalidOperationException("A signed-in account is required.");
        if (string.IsNullOrEmpty(current) || !await users.CheckPasswordAsync(user, current))
        {
            return [new("currentPassword", "Your current password is not right.")];
        }
        var rules = Passwords.PasswordRules.Validate(password, [user.Email, user.DisplayName]);
        if (rules.Count > 0)
        {
            return rules;
        }
        var changed = await users.ChangePasswordAsync(user, current, password!);
        if (!changed.Succeeded)
        {
            return changed.Errors.Select(AccountService.ToFieldError).ToList();
        }
        await signIn.RefreshSignInAsync(user);
        return [];
    }

    /// <summary>
    /// Mails a link to the new address; nothing changes until it is opened. An address that already has an account gets
    /// no mail, and the answer is the same, so nobody learns which addresses have accounts.
    /// </summary>
    public async Task<IReadOnlyList<FieldError>> RequestEmailChangeAsync(ClaimsPrincipal principal, string? current, string? email, CancellationToken ct)
    {
        var user = await users.GetUserAsync(principal) ?? throw new InvalidOperationException("A signed-in account is required.");
        List<FieldError> errors = [];
        if (string.IsNullOrEmpty(current) || !await users.CheckPasswordAsync(user, current))
        {
            errors.Add(new("currentPassword", "Your current password is not right."));
        }
        errors.AddRange(AccountRules.ValidateEmail(email));
        if (errors.Count > 0)
        {
            return errors;
        }
        var address = email!.Trim();
        if (await users.FindByEmailAsync(address) is not null)
        {
            return [];
        }
        var link = Link(ChangeEmailPath, ("user", user.Id.ToString()), ("email", address), ("token", await users.GenerateChangeEmailTokenAsync(user, address)));
        using (Languages.InCulture(user.PreferredCulture))
        {
            await outbox.EnqueueAsync(address, text["Confirm your new Crowd address"],
                string.Join("\n\n",
                    text["You asked to change the address of your Crowd account from {0} to {1}.", user.Email!, address],
                    text["Confirm the change here. The link works once, for {0} hours; after the change every other session of the account is signed out:", TokenHours] + "\n" + link,
                    text["If it was not you, ignore this mail: nothing changes."]),
                ct);
        }
        return [];
    }

    public async Task<IReadOnlyList<FieldError>> ConfirmEmailChangeAsync(Guid userId, string? email, string? token)
    {
        if (await users.FindByIdAsync(userId.ToString()) is not { } user || string.IsNullOrEmpty(email) || string.IsNullOrEmpty(token))
        {
            return [s_usedLink];
        }
        var changed = await users.ChangeEmailAsync(user, email, token);
        if (!changed.Succeeded)
        {
            return [s_usedLink];
        }
        await users.SetUserNameAsync(user, email);
        if (signIn.Context.User.Identity?.IsAuthenticated == true && (await users.GetUserAsync(signIn.Context.User))?.Id == user.Id)
        {
            await signIn.RefreshSignInAsync(user);
        }
        return [];
    }

    private Uri Link(string path, params (string Name, string Value)[] query) =>
        new(options.Value.PublicUrl!, path + "?" + string.Join("&", query.Select(q => q.Name + "=" + Uri.EscapeDataString(q.Value))));
}
