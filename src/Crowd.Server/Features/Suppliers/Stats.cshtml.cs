using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Suppliers;

public sealed record StatsRow(string Month, string Currency, string? JobTitle, SupplierStatsResponse Figures, CellFee? Fee);

/// <summary>A job on the board and the fee rate it pays suppliers, as its contributors read it before consenting.</summary>
public sealed record FeeRate(string JobTitle, int RateBp);

[Authorize(Policy = Roles.Supplier)]
public sealed class StatsModel(CrowdDb db, SupplierStats stats) : PageModel
{
    public bool Suspended { get; private set; }
    public int? SignedUp { get; private set; }
    public IReadOnlyList<StatsRow> Rows { get; private set; } = [];
    public IReadOnlyList<Money> FeeTotals { get; private set; } = [];
    public IReadOnlyList<FeeRate> Rates { get; private set; } = [];

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
        var titles = await db.Jobs.AsNoTracking().Where(j => jobIds.Contains(j.Id)).ToDictionaryAsync(j => j.Id, j => j.Terms.Title, ct);
        var fees = (await stats.FeesAsync(organisation, ct)).ToDictionary(f => (f.Month, f.Currency, f.JobId));
        Rows = cells.Select(c => new StatsRow(SupplierStats.Name(c.Month), c.Currency,
            c.JobId == SupplierStats.AllJobs ? null : titles.GetValueOrDefault(c.JobId), c.Figures,
            fees.GetValueOrDefault((c.Month, c.Currency, c.JobId)))).ToList();
        FeeTotals = SupplierStats.FeeTotals([.. fees.Values]);
        Rates = await (from j in db.Jobs.AsNoTracking()
                       join b in db.Set<Escrow.JobBudget>() on j.Id equals b.JobId
                       where j.Status == Jobs.JobStatus.Published && b.SupplierFeeBp > 0
                       orderby j.PublishedAt descending
                       select new FeeRate(j.Terms.Title, b.SupplierFeeBp)).Take(100).ToListAsync(ct);
    }
}
