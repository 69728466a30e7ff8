using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;

namespace Crowd.Server.Features.Accounts.Recovery;

[AllowAnonymous]
[EnableRateLimiting(WebSetup.AuthLimit)]
public sealed class ForgotPasswordModel(AccountRecovery recovery) : PageModel
{
    [BindProperty] public string? Email { get; set; }
    public bool Sent { get; private set; }

    public void OnGet()
    {
    }

    /// <summary>The same answer whether or not the address has an account.</summary>
    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        await recovery.RequestPasswordResetAsync(Email, ct);
        Sent = true;
        return Page();
    }
}
