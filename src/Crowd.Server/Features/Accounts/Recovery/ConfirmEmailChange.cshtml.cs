using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;

namespace Crowd.Server.Features.Accounts.Recovery;

/// <summary>The link mailed to a new address: opening it proves the address and moves the account to it.</summary>
[AllowAnonymous]
[EnableRateLimiting(WebSetup.AuthLimit)]
public sealed class ConfirmEmailChangeModel(AccountRecovery recovery) : PageModel
{
    public IReadOnlyList<FieldError> Errors { get; private set; } = [];
    public string? Email { get; private set; }

    public async Task OnGetAsync(Guid user, string? email, string? token)
    {
        Email = email;
        Errors = await recovery.ConfirmEmailChangeAsync(user, email, token);
    }
}
