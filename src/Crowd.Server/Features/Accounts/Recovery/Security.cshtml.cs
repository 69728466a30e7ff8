using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Accounts.Recovery;

[Authorize]
[EnableRateLimiting(WebSetup.AuthLimit)]
public sealed class SecurityModel(AccountRecovery recovery, IStringLocalizer<AccountsText> text) : PageModel
{
    [BindProperty] public string? CurrentPassword { get; set; }
    [BindProperty] public string? Password { get; set; }
    [BindProperty] public string? Email { get; set; }
    [BindProperty(SupportsGet = true)] public string? Done { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostPasswordAsync() =>
        Answer(await recovery.ChangePasswordAsync(User, CurrentPassword, Password), "password");

    public async Task<IActionResult> OnPostEmailAsync(CancellationToken ct) =>
        Answer(await recovery.RequestEmailChangeAsync(User, CurrentPassword, Email, ct), "email");

    private IActionResult Answer(IReadOnlyList<FieldError> errors, string done)
    {
        ModelState.Clear();
        if (errors.Count > 0)
        {
            ModelState.AddErrors(errors, text);
            return Page();
        }
        return RedirectToPage(new { done });
    }
}
