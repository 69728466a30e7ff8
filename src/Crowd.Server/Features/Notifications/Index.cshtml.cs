using Crowd.Server.Features.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Crowd.Server.Features.Notifications;

[Authorize]
public sealed class IndexModel(Notifications notifications) : PageModel
{
    public IReadOnlyList<NotificationView> Items { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct) => Items = await notifications.ListAsync(User.UserId(), ct);

    public async Task<IActionResult> OnPostReadAsync(Guid id, CancellationToken ct) =>
        await notifications.MarkReadAsync(User.UserId(), id, ct) ? RedirectToPage() : NotFound();

    public async Task<IActionResult> OnPostReadAllAsync(CancellationToken ct)
    {
        await notifications.MarkReadAsync(User.UserId(), null, ct);
        return RedirectToPage();
    }
}
