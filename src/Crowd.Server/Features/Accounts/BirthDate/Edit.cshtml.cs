using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Accounts.BirthDate;

[Authorize]
public sealed class EditModel(CrowdDb db, BirthDates birthDates, IStringLocalizer<BirthDateText> text) : PageModel
{
    public DateOnly Current { get; private set; }
    public bool Locked { get; private set; }
    public BirthDateChange? Pending { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? Done { get; set; }

    [BindProperty]
    public DateOnly? DateOfBirth { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        ModelState.Clear();
        var outcome = await birthDates.ChangeAsync(User.UserId(), DateOfBirth, Reason, ct);
        if (outcome.Kind is BirthDateOutcomeKind.Changed or BirthDateOutcomeKind.Requested)
        {
            return RedirectToPage(new { done = outcome.Kind == BirthDateOutcomeKind.Changed ? "changed" : "requested" });
        }
        ModelState.AddErrors(outcome.Errors ?? [], text);
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var userId = User.UserId();
        Current = await db.Users.Where(u => u.Id == userId).Select(u => u.DateOfBirth).SingleAsync(ct);
        Locked = await birthDates.LockedAsync(userId, ct);
        Pending = await birthDates.PendingAsync(userId, ct);
    }
}
