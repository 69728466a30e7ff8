using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Accounts.Recovery;

[AllowAnonymous]
[EnableRateLimiting(WebSetup.AuthLimit)]
public sealed class ResetPasswordModel(AccountRecovery recovery, IStringLocalizer<AccountsText> text) : PageModel
{
    [BindProperty(SupportsGet = true)] public new Guid User { get; set; }
    [BindProperty(SupportsGet = true)] public string? Token { get; set; }
    [BindProperty] public string? Password { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        ModelState.Clear();
        var errors = await recovery.ResetPasswordAsync(User, Token, Password);
        if (errors.Count > 0)
        {
            ModelState.AddErrors(errors, text);
            return Page();
        }
        return LocalRedirect("/Account/SignIn?passwordReset=true");
    }
}
