using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Jobs;

[Authorize(Policy = Roles.Requester)]
public sealed class IndexModel(CrowdDb db) : PageModel
{
    public IReadOnlyList<Job> Jobs { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        var org = User.OrganisationIdOrNull();
        Jobs = await db.Jobs.AsNoTracking().Where(j => j.OrganisationId == org).OrderByDescending(j => j.CreatedAt).ToListAsync(ct);
    }
}
