using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Features.Recording.Consent;
using ConsentTerms = Crowd.Server.Features.Recording.Consent.ConsentTerms;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Board;

/// <summary>
/// A job as a person sees it before deciding anything: who buys the recordings, what for, the pay, how long a clip takes,
/// a few of its prompts, how long the audio is kept, and that declining costs nothing. The facts are the current terms
/// the consent would be given to, so the two pages cannot disagree.
/// </summary>
[AllowAnonymous]
public sealed class JobModel(CrowdDb db, ConsentService consents) : PageModel
{
    public const int SamplePromptCount = 3;

    public Job? Job { get; private set; }

    public ConsentTerms? Terms { get; private set; }

    /// <summary>False while the job is paused or waiting for money: the page still explains it, but nobody can record.</summary>
    public bool Live { get; private set; }

    public IReadOnlyList<string> SamplePrompts { get; private set; } = [];

    /// <summary>The floor of the job's region, which its pay is at least; null when the region has none on record.</summary>
    public Money? Floor { get; private set; }

    public string RegionName { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(Guid jobId, CancellationToken ct)
    {
        if (await consents.TermsAsync(jobId, ct) is not var (job, terms))
        {
            return NotFound();
        }
        (Job, Terms) = (job, terms);
        Live = (await JobFunding.LiveIdsAsync(db, db.Jobs.Where(j => j.Id == jobId), ct)).Count == 1;
        SamplePrompts = await db.Prompts.AsNoTracking().Where(p => p.JobId == jobId).OrderBy(p => p.Ordinal)
            .Take(SamplePromptCount).Select(p => p.Text).ToListAsync(ct);
        var floor = await db.RateFloors.AsNoTracking().SingleOrDefaultAsync(f => f.Region == job.Terms.Region, ct);
        if (floor is not null)
        {
            Floor = PayFloor.Of(floor);
            RegionName = floor.RegionName;
        }
        return Page();
    }

    public bool IsContributor => User.IsInRole(Roles.Contributor);
}
