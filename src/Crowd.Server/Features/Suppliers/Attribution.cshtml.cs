using Crowd.Server.Features.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Crowd.Server.Features.Suppliers;

/// <summary>The attribution screen: only an explicit yes attributes; a no stores nothing at all.</summary>
[Authorize(Policy = Roles.Contributor)]
public sealed class AttributionModel(SupplierAttributions attributions) : PageModel
{
    public InvitationOffer? Offer { get; private set; }

    public async Task OnGetAsync(string? code, CancellationToken ct) => Offer = await attributions.OfferAsync(code, User.UserId(), ct);

    public async Task<IActionResult> OnPostYesAsync(string? code, CancellationToken ct)
    {
        Offer = await attributions.AttributeAsync(User.UserId(), code, ct);
        if (Offer is null)
        {
            return Page();
        }
        return LocalRedirect(Offer.JobId is { } job ? $"/Recording/{job}/Consent" : "/Account/Supplier");
    }

    public async Task<IActionResult> OnPostNoAsync(string? code, CancellationToken ct)
    {
        var offer = await attributions.OfferAsync(code, User.UserId(), ct);
        return LocalRedirect(offer?.JobId is { } job ? $"/Recording/{job}/Consent" : "/");
    }
}
