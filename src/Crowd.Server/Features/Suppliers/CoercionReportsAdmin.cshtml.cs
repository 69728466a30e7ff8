using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Suppliers;

public sealed record ReportRow(Guid Id, DateTimeOffset CreatedAt, bool Anonymous, string? ReporterEmail, Guid? SupplierId, string? SupplierName,
    string? NamedParty, string Description, DateTimeOffset? ClosedAt, string? Outcome, bool Suspended);

[Authorize(Policy = Roles.Admin)]
public sealed class CoercionReportsAdminModel(CrowdDb db, CoercionReports reports, IStringLocalizer<SuppliersText> text) : PageModel
{
    public IReadOnlyList<ReportRow> Reports { get; private set; } = [];

    public Task OnGetAsync(CancellationToken ct) => LoadAsync(ct);

    public Task<IActionResult> OnPostSuspendAsync(Guid reportId, string? reason, CancellationToken ct) =>
        AfterAsync(reports.SuspendAsync(User.UserId(), reportId, reason, ct), ct);

    public Task<IActionResult> OnPostReinstateAsync(Guid supplierId, string? reason, CancellationToken ct) =>
        AfterAsync(reports.ReinstateAsync(User.UserId(), supplierId, reason, ct), ct);

    public Task<IActionResult> OnPostCloseAsync(Guid reportId, string? outcome, CancellationToken ct) =>
        AfterAsync(reports.CloseAsync(User.UserId(), reportId, outcome, ct), ct);

    private async Task<IActionResult> AfterAsync(Task<IReadOnlyList<FieldError>> action, CancellationToken ct)
    {
        var errors = await action;
        if (errors.Count == 0)
        {
            return RedirectToPage();
        }
        ModelState.AddErrors(errors, text);
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var suspended = (await db.Set<SupplierSuspension>().Where(s => s.ReinstatedAt == null).Select(s => s.OrganisationId).ToListAsync(ct)).ToHashSet();
        var rows = await (from r in db.Set<CoercionReport>().AsNoTracking()
                          join o in db.Organisations on r.SupplierOrganisationId equals o.Id into orgs
                          from o in orgs.DefaultIfEmpty()
                          join u in db.Users on r.ReporterId equals u.Id into users
                          from u in users.DefaultIfEmpty()
                          orderby r.ClosedAt != null, r.CreatedAt descending
                          select new { r, SupplierName = o == null ? null : o.Name, Email = u == null ? null : u.Email }).Take(500).ToListAsync(ct);
        Reports = rows.Select(x => new ReportRow(x.r.Id, x.r.CreatedAt, x.r.ReporterId is null, x.Email, x.r.SupplierOrganisationId, x.SupplierName,
            x.r.NamedParty, x.r.Description, x.r.ClosedAt, x.r.Outcome,
            x.r.SupplierOrganisationId is { } s && suspended.Contains(s))).ToList();
    }
}
