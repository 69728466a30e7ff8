using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;

using Crowd.Server.Infrastructure.Money;

namespace Crowd.Server.Features.Escrow;

public sealed record JobSpend(Guid JobId, string Title, FundingStatus Funding, Money PlatformFees, Money SupplierFees, int? TargetHours, Earnings.JobPayReport Pay);

/// <summary>A requester's money per job: escrow, spent, fees, what is left and how many hours it pays for.</summary>
[Authorize(Policy = Roles.Requester)]
public sealed class SpendModel(CrowdDb db, JobService jobs, IStringLocalizer<EscrowText> text) : PageModel
{
    public IReadOnlyList<JobSpend> Jobs { get; private set; } = [];
    public IReadOnlyList<EscrowNotice> Notices { get; private set; } = [];
    public string? Saved { get; private set; }

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostBudgetAsync(Guid jobId, int targetHours, CancellationToken ct)
    {
        var errors = await jobs.SetBudgetAsync(User.OrganisationIdOrNull()!.Value, jobId, targetHours, ct);
        if (errors is null)
        {
            return NotFound();
        }
        if (errors.Count > 0)
        {
            ModelState.AddErrors(errors, text);
        }
        else
        {
            Saved = text["Budget saved. Fund the escrow with at least the amount shown for the job to go live."];
        }
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var org = User.OrganisationIdOrNull();
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.OrganisationId == org).OrderByDescending(j => j.CreatedAt)
            .Select(j => new { j.Id, j.Terms.Title, j.Terms.Currency }).Take(200).ToListAsync(ct);
        var list = new List<JobSpend>();
        foreach (var job in jobs)
        {
            var fees = await db.Set<Earnings.EarningsAccrualRow>().Where(a => a.JobId == job.Id)
                .GroupBy(a => 1).Select(g => new { Platform = g.Sum(a => a.PlatformFeeMinor), Supplier = g.Sum(a => a.SupplierFeeMinor) })
                .FirstOrDefaultAsync(ct);
            var budget = await db.Set<JobBudget>().AsNoTracking().FirstOrDefaultAsync(b => b.JobId == job.Id, ct);
            list.Add(new JobSpend(job.Id, job.Title, (await JobFunding.StatusAsync(db, job.Id, ct))!, new Money(fees?.Platform ?? 0, job.Currency),
                new Money(fees?.Supplier ?? 0, job.Currency), budget?.TargetHours,
                await Earnings.EarningsReport.ForJobAsync(db, job.Id, job.Currency, ct)));
        }
        Jobs = list;
        Notices = await db.Set<EscrowNotice>().AsNoTracking().Where(n => n.OrganisationId == org).OrderByDescending(n => n.CreatedAt).Take(20).ToListAsync(ct);
    }
}
