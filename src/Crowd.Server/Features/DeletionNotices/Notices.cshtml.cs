using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.DeletionNotices;

[Authorize(Policy = Roles.Requester)]
public sealed class NoticesModel(DeletionNoticeService notices, IStringLocalizer<DeletionNoticesText> text) : PageModel
{
    public IReadOnlyList<NoticeView> Notices { get; private set; } = [];
    public WebhookView? Webhook { get; private set; }

    [TempData]
    public string? Done { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (User.OrganisationIdOrNull() is not { } id)
        {
            return Forbid();
        }
        Notices = await notices.ListAsync(id, openOnly: false, ct);
        Webhook = await notices.WebhookAsync(id, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostAcknowledgeAsync(Guid? noticeId, CancellationToken ct)
    {
        if (User.OrganisationIdOrNull() is not { } id)
        {
            return Forbid();
        }
        var count = await notices.AcknowledgeAsync(id, User.UserId(), noticeId, ct);
        Done = text.Plural(count, "{0} notice acknowledged. Thank you for deleting the recordings.", "{0} notices acknowledged. Thank you for deleting the recordings.");
        return RedirectToPage();
    }
}
