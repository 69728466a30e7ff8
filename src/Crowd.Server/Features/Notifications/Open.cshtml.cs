using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Crowd.Server.Features.Notifications;

/// <summary>Following a notification marks it read and leads to the page where the person acts on it.</summary>
[Authorize]
public sealed class OpenModel(Notifications notifications) : PageModel
{
    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken ct) =>
        await notifications.OpenAsync(User.UserId(), id, ct) is { } link && WebSetup.IsLocalUrl(link) ? LocalRedirect(link) : NotFound();
}
