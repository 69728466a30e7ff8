using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;

namespace Crowd.Server.Features.Accounts.Recovery;

/// <summary>The link of the welcome mail. Opening it only proves the address reached its owner, so a mail scanner opening it first does no harm.</summary>
[AllowAnonymous]
[EnableRateLimiting(WebSetup.AuthLimit)]
public sealed class ConfirmEmailModel(AccountRecovery recovery) : PageModel
{
    public IReadOnlyList<FieldError> Errors { get; private set; } = [];

    public async Task OnGetAsync(Guid user, string? token) => Errors = await recovery.ConfirmEmailAsync(user, token);
}
