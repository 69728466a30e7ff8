using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Suppliers;

public sealed record StatsRow(string Month, string Currency, string? JobTitle, SupplierStatsResponse Figures);

[Authorize(Policy = Roles.Supplier)]
public sealed class StatsModel(CrowdDb db, SupplierStats stats) : PageModel
{
    public bool Suspended { get; private set; }
    public int? SignedUp { get; private set; }
    public IReadOnlyList<StatsRow> Rows { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        var organisation = User.OrganisationIdOrNull()!.Value;
        Suspended = await SupplierAttributions.IsSuspendedAsync(db, organisation, ct);
        if (Suspended)
        {
            return;
        }
        SignedUp = (await stats.SignupsAsync(organisation, null, ct)).Value?.SignedUp;
        var cells = await stats.TableAsync(organisation, ct);
        var jobIds = cells.Select(c => c.JobId).Where(j => j != SupplierStats.AllJobs).Distinct().ToList();
        var titles = await db.Jobs.AsNoTracking().Where(j => jobIds.Contains(j.Id)).ToDictionaryAsync(j => j.Id, j => j.Title, ct);
        Rows = cells.Select(c => new StatsRow(SupplierStats.Name(c.Month), c.Currency,
            c.JobId == SupplierStats.AllJobs ? null : titles.GetValueOrDefault(c.JobId), c.Figures)).ToList();
    }
}
