using Crowd.Server.Features.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Crowd.Server.Infrastructure.Web;

namespace Crowd.Server.Features.Suppliers;

/// <summary>Where an invitation link lands. A signed-in contributor goes straight to the attribution screen.</summary>
[AllowAnonymous]
[EnableRateLimiting(WebSetup.AuthLimit)]
public sealed class JoinModel(SupplierAttributions attributions) : PageModel
{
    public InvitationOffer? Offer { get; private set; }

    public async Task<IActionResult> OnGetAsync(string code, CancellationToken ct)
    {
        if (User.IsInRole(Roles.Contributor))
        {
            return LocalRedirect("/Account/Supplier/Join?code=" + Uri.EscapeDataString(SupplierAttributions.NormaliseCode(code)));
        }
        Offer = await attributions.OfferAsync(code, null, ct);
        return Page();
    }
}
