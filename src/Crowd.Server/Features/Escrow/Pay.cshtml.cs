using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Escrow;

/// <summary>A requester's funding actions for one of their jobs; each goes back to the job's page (or on to Stripe).</summary>
[Authorize(Policy = Roles.Requester)]
public sealed class PayModel(CrowdDb db, CardCheckout card, FundingPanels panels) : PageModel
{
    public IActionResult OnGet(Guid jobId) => Back(jobId, null);

    public async Task<IActionResult> OnPostCardAsync(Guid jobId, CancellationToken ct)
    {
        var org = User.OrganisationIdOrNull();
        if (org is null)
        {
            return NotFound();
        }
        var email = await db.Users.Where(u => u.Id == User.UserId()).Select(u => u.Email).FirstOrDefaultAsync(ct);
        var start = await card.StartAsync(org.Value, jobId, email, ct);
        return start.Outcome switch
        {
            CheckoutOutcome.Redirect => Redirect(start.Url!.ToString()),
            CheckoutOutcome.NotFound => NotFound(),
            CheckoutOutcome.StripeFailed => Back(jobId, "card-failed"),
            _ => Back(jobId, null),
        };
    }

    public async Task<IActionResult> OnPostAutoPublishAsync(Guid jobId, bool on, CancellationToken ct)
    {
        var org = User.OrganisationIdOrNull();
        if (!await db.Jobs.AnyAsync(j => j.Id == jobId && j.OrganisationId == org, ct))
        {
            return NotFound();
        }
        await panels.SetAutoPublishAsync(jobId, on, ct);
        return Back(jobId, null);
    }

    private RedirectResult Back(Guid jobId, string? funding) =>
        Redirect($"/Jobs/Edit?id={jobId}" + (funding is null ? "" : "&funding=" + funding));
}
