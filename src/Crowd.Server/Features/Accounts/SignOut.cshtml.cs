using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Crowd.Server.Features.Accounts;

/// <summary>Signing out is a POST with an antiforgery token, so a link on another site cannot sign a person out.</summary>
[AllowAnonymous]
public sealed class SignOutModel(AccountService accounts) : PageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        await accounts.SignOutAsync();
        return LocalRedirect("/");
    }
}
