using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Suppliers;

public sealed record SupplierChoice(Guid Id, string Name);

[Authorize(Policy = Roles.Contributor)]
[EnableRateLimiting(WebSetup.AuthLimit)]
public sealed class ReportModel(CrowdDb db, CoercionReports reports, IStringLocalizer<SuppliersText> text) : PageModel
{
    [BindProperty] public Guid? SupplierOrganisationId { get; set; }
    [BindProperty] public string? NamedParty { get; set; }
    [BindProperty] public string? Description { get; set; }
    [BindProperty] public bool Anonymous { get; set; }

    public IReadOnlyList<SupplierChoice> Suppliers { get; private set; } = [];
    public bool Filed { get; private set; }

    public Task OnGetAsync(CancellationToken ct) => LoadAsync(ct);

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var (report, errors) = await reports.FileAsync(User.UserId(), new CoercionReportRequest(SupplierOrganisationId, NamedParty, Description, Anonymous), ct);
        if (report is null)
        {
            ModelState.AddErrors(errors, text);
        }
        else
        {
            Filed = true;
            (SupplierOrganisationId, NamedParty, Description, Anonymous) = (null, null, null, false);
        }
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct) =>
        Suppliers = await db.Organisations.AsNoTracking().Where(o => o.Kind == OrganisationKind.Supplier).OrderBy(o => o.Name)
            .Select(o => new SupplierChoice(o.Id, o.Name)).Take(1000).ToListAsync(ct);
}
