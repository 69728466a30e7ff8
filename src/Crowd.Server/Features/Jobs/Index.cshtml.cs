using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Jobs;

/// <summary>A job in its organisation's list: its state, kept clips against the takes it needs, and spend against budget.</summary>
public sealed record JobSummary(Job Job, JobState State, int KeptClips, int TakesNeeded, Money Spent, Money Budget);

[Authorize(Policy = Roles.Requester)]
public sealed class IndexModel(CrowdDb db) : PageModel
{
    public IReadOnlyList<JobSummary> Jobs { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        var org = User.OrganisationIdOrNull();
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.OrganisationId == org).OrderByDescending(j => j.CreatedAt).ToListAsync(ct);
        var ids = jobs.Select(j => j.Id).ToArray();
        var funding = await JobFunding.StatusesAsync(db, ids, ct);
        var budgeted = await db.Set<JobBudget>().Where(b => ids.Contains(b.JobId)).Select(b => b.JobId).ToListAsync(ct);
        var kept = await db.Clips.Where(c => ids.Contains(c.JobId) && c.WithdrawnAt == null).GroupBy(c => c.JobId)
            .Select(g => new { JobId = g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.JobId, x => x.Count, ct);
        Jobs = jobs.Select(j =>
        {
            var money = funding[j.Id];
            return new JobSummary(j, JobStates.Of(j.Status, budgeted.Contains(j.Id), money.Covered, money.Paused), kept.GetValueOrDefault(j.Id),
                checked(j.PromptCount * j.Terms.TakesPerPrompt), money.Spent, money.Budget);
        }).ToList();
    }
}
