using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Crowd.Server.Features.DeletionNotices;

[Authorize(Policy = Roles.Admin)]
public sealed class OpenNoticesModel(CrowdDb db, TimeProvider clock) : PageModel
{
    public IReadOnlyList<OpenNotice> Notices { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct) => Notices = await DeletionNoticeService.OpenForAdminsAsync(db, clock.GetUtcNow(), ct);
}
