using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.DeletionNotices;

[Authorize(Policy = Roles.Requester)]
public sealed class WebhookModel(DeletionNoticeService notices, IStringLocalizer<DeletionNoticesText> text) : PageModel
{
    public WebhookView? Webhook { get; private set; }
    public IReadOnlyList<DeliveryView> Deliveries { get; private set; } = [];
    /// <summary>Shown once, right after it was made.</summary>
    public string? NewSecret { get; private set; }

    [BindProperty]
    public string? Address { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) => await LoadAsync(ct) ? Page() : Forbid();

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (User.OrganisationIdOrNull() is not { } id)
        {
            return Forbid();
        }
        var (errors, secret) = await notices.SetWebhookAsync(id, User.UserId(), Address, ct);
        ModelState.AddErrors(errors.Select(e => e with { Field = nameof(Address) }), text);
        NewSecret = secret;
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostRemoveAsync(CancellationToken ct)
    {
        if (User.OrganisationIdOrNull() is { } id)
        {
            await notices.RemoveWebhookAsync(id, ct);
        }
        return RedirectToPage();
    }

    private async Task<bool> LoadAsync(CancellationToken ct)
    {
        if (User.OrganisationIdOrNull() is not { } id)
        {
            return false;
        }
        Webhook = await notices.WebhookAsync(id, ct);
        Deliveries = await notices.DeliveriesAsync(id, text, ct);
        Address ??= Webhook?.Url;
        return true;
    }
}
