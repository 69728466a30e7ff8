using System.Globalization;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Accounts;

[AllowAnonymous]
[EnableRateLimiting(WebSetup.AuthLimit)]
public sealed class SignInModel(AccountService accounts, IStringLocalizer<AccountsText> text) : PageModel
{
    [BindProperty] public string? Email { get; set; }
    [BindProperty] public string? Password { get; set; }
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }

    /// <summary>Arriving from sign-up: the account is made (or its owner mailed), and signing in comes next.</summary>
    [BindProperty(SupportsGet = true)] public bool SignedUp { get; set; }

    [BindProperty(SupportsGet = true)] public bool PasswordReset { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        ModelState.Clear();
        SignedUp = false;
        PasswordReset = false;
        var attempt = await accounts.SignInAsync(Email, Password, persistent: false, ct);
        switch (attempt.Outcome)
        {
            case SignInOutcome.Throttled:
                var seconds = SignInAttempt.Seconds(attempt.RetryAfter);
                Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                ModelState.AddModelError("", text.Plural(seconds, "Too many failed sign-ins. Wait {0} second and try again.", "Too many failed sign-ins. Wait {0} seconds and try again."));
                return Page();
            case SignInOutcome.WrongCredentials:
                ModelState.AddModelError("", text["The email address or password is wrong."]);
                return Page();
        }
        // Only ever back into this site: a returnUrl pointing elsewhere would make the sign-in page an open redirect.
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/");
    }
}
