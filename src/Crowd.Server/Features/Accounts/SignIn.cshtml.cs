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

    public bool LockedOut { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        ModelState.Clear();
        var (outcome, _) = await accounts.SignInAsync(Email, Password, persistent: false);
        switch (outcome)
        {
            case SignInOutcome.LockedOut:
                LockedOut = true;
                ModelState.AddModelError("", text["Too many wrong passwords. The account is locked for {0} minutes; try again later.", 15]);
                return Page();
            case SignInOutcome.WrongCredentials:
                ModelState.AddModelError("", text["The email address or password is wrong."]);
                return Page();
        }
        // Only ever back into this site: a returnUrl pointing elsewhere would make the sign-in page an open redirect.
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/");
    }
}
