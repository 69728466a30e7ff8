using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Suppliers;

public sealed record CurrentSupplier(string Name, DateTimeOffset Since, bool Suspended);

public sealed record AttributionHistory(string Name, DateTimeOffset From, DateTimeOffset? Until);

/// <summary>A contributor's supplier: who counts them, since when, and a detach button that works at any time.</summary>
[Authorize(Policy = Roles.Contributor)]
public sealed class MySupplierModel(CrowdDb db, SupplierAttributions attributions) : PageModel
{
    public CurrentSupplier? Current { get; private set; }
    public IReadOnlyList<AttributionHistory> History { get; private set; } = [];
    public bool Detached { get; private set; }

    public Task OnGetAsync(CancellationToken ct) => LoadAsync(ct);

    public async Task<IActionResult> OnPostDetachAsync(CancellationToken ct)
    {
        Detached = await attributions.DetachAsync(User.UserId(), ct);
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var me = User.UserId();
        var rows = await (from a in db.Set<SupplierAttribution>().AsNoTracking()
                          join o in db.Organisations on a.OrganisationId equals o.Id
                          where a.ContributorId == me
                          orderby a.AttributedAt descending
                          select new { o.Id, o.Name, a.AttributedAt, a.DetachedAt }).ToListAsync(ct);
        History = rows.Select(r => new AttributionHistory(r.Name, r.AttributedAt, r.DetachedAt)).ToList();
        var current = rows.FirstOrDefault(r => r.DetachedAt is null);
        Current = current is null ? null
            : new CurrentSupplier(current.Name, current.AttributedAt, await SupplierAttributions.IsSuspendedAsync(db, current.Id, ct));
    }
}
