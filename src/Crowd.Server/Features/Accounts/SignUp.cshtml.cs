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
public sealed class SignUpModel(AccountService accounts, IStringLocalizer<AccountsText> text) : PageModel
{
    [BindProperty] public string? Email { get; set; }
    [BindProperty] public string? Password { get; set; }
    [BindProperty] public string? DisplayName { get; set; }
    [BindProperty] public DateOnly? DateOfBirth { get; set; }
    [BindProperty] public string? Role { get; set; }
    [BindProperty] public string? OrganisationName { get; set; }
    /// <summary>A supplier's invitation code; it only leads to the attribution screen, where the contributor decides.</summary>
    [BindProperty(SupportsGet = true)] public string? Invite { get; set; }

    public void OnGet(string? role) => Role = AccountRules.SelfServiceRoles.Contains(role) ? role : null;

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        // A malformed date binds as null; the rules then report it in the reader's language instead of the binder's English.
        ModelState.Clear();
        var organisation = Role is Roles.Requester or Roles.Supplier ? OrganisationName : null;
        var errors = await accounts.SignUpAsync(new SignUpRequest(Email, Password, DisplayName, DateOfBirth, Role, organisation,
            CultureInfo.CurrentUICulture.Name), ct);
        if (errors.Count > 0)
        {
            ModelState.AddErrors(errors, text);
            return Page();
        }
        // Not signed in here: an address that already has an account gets the very same answer, so nobody learns that it does.
        var next = Role == Roles.Contributor && !string.IsNullOrWhiteSpace(Invite)
            ? "/Account/Supplier/Join?code=" + Uri.EscapeDataString(Invite.Trim())
            : Role == Roles.Requester ? "/Jobs" : "/";
        return LocalRedirect("/Account/SignIn?signedUp=true&returnUrl=" + Uri.EscapeDataString(next));
    }
}
