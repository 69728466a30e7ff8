using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Recording;

/// <summary>The job's terms and a consent of its own, never bundled with anything else. The full consent flow builds on this record.</summary>
[Authorize(Policy = Roles.Contributor)]
public sealed class ConsentModel(CrowdDb db, ConsentGate gate) : PageModel
{
    public Job? Job { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid jobId, CancellationToken ct)
    {
        Job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId && j.Status == JobStatus.Published, ct);
        return Job is null ? NotFound() : Page();
    }

    public async Task<IActionResult> OnPostAsync(Guid jobId, CancellationToken ct) =>
        await gate.GiveAsync(jobId, User.UserId(), ct) ? Redirect($"/Recording/{jobId}") : NotFound();
}
