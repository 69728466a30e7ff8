using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Suppliers;

public sealed record InvitationRow(Guid Id, string Label, string Code, string? JobTitle, DateTimeOffset? RevokedAt);

public sealed record JobChoice(Guid Id, string Title);

[Authorize(Policy = Roles.Supplier)]
public sealed class InvitationsModel(CrowdDb db, SupplierAttributions attributions, IStringLocalizer<SuppliersText> text, IOptions<CrowdOptions> options)
    : PageModel
{
    public IReadOnlyList<InvitationRow> Invitations { get; private set; } = [];
    public IReadOnlyList<JobChoice> Jobs { get; private set; } = [];
    public bool Suspended { get; private set; }

    private Guid Organisation => User.OrganisationIdOrNull()!.Value;

    /// <summary>The link to hand out, built from the platform's public address, never from this request's Host.</summary>
    public Uri LinkOf(InvitationRow invitation) => InvitationQr.Link(options.Value.PublicUrl!, invitation.Code);

    public Task OnGetAsync(CancellationToken ct) => LoadAsync(ct);

    public async Task<IActionResult> OnPostCreateAsync(string? label, Guid? jobId, CancellationToken ct)
    {
        var (_, errors) = await attributions.CreateInvitationAsync(Organisation, User.UserId(), label, jobId, ct);
        if (errors.Count > 0)
        {
            ModelState.AddErrors(errors, text);
            await LoadAsync(ct);
            return Page();
        }
        return RedirectToPage();
    }

    /// <summary>The invitation's link as an SVG QR code; only for the organisation's own open invitations.</summary>
    public async Task<IActionResult> OnGetQrAsync(Guid id, CancellationToken ct)
    {
        var code = await db.Set<SupplierInvitation>().AsNoTracking()
            .Where(i => i.Id == id && i.OrganisationId == Organisation && i.RevokedAt == null).Select(i => i.Code).SingleOrDefaultAsync(ct);
        if (code is null)
        {
            return NotFound();
        }
        Response.Headers.CacheControl = "private, max-age=3600";
        return Content(InvitationQr.Svg(InvitationQr.Link(options.Value.PublicUrl!, code)), "image/svg+xml");
    }

    public async Task<IActionResult> OnPostRevokeAsync(Guid id, CancellationToken ct)
    {
        await attributions.RevokeInvitationAsync(Organisation, id, ct);
        return RedirectToPage();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Suspended = await SupplierAttributions.IsSuspendedAsync(db, Organisation, ct);
        Invitations = await (from i in db.Set<SupplierInvitation>().AsNoTracking()
                             join j in db.Jobs on i.JobId equals j.Id into jobs
                             from j in jobs.DefaultIfEmpty()
                             where i.OrganisationId == Organisation
                             orderby i.CreatedAt descending
                             select new InvitationRow(i.Id, i.Label, i.Code, j == null ? null : j.Terms.Title, i.RevokedAt)).Take(200).ToListAsync(ct);
        Jobs = await db.Jobs.AsNoTracking().Where(j => j.Status == JobStatus.Published).OrderByDescending(j => j.PublishedAt)
            .Select(j => new JobChoice(j.Id, j.Terms.Title)).Take(200).ToListAsync(ct);
    }
}
