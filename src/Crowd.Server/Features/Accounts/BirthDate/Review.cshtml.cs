using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Accounts.BirthDate;

public sealed record PendingBirthDate(Guid Id, string DisplayName, string Email, DateOnly Current, DateOnly Requested, string Reason, DateTimeOffset RequestedAt);

/// <summary>Admins decide date-of-birth changes of people who have consented; each decision is audited.</summary>
[Authorize(Policy = Roles.Admin)]
public sealed class ReviewModel(CrowdDb db, BirthDates birthDates) : PageModel
{
    public IReadOnlyList<PendingBirthDate> Pending { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct) =>
        Pending = await db.BirthDateChanges.AsNoTracking().Where(c => c.DecidedAt == null).OrderBy(c => c.RequestedAt)
            .Join(db.Users, c => c.UserId, u => u.Id, (c, u) => new PendingBirthDate(c.Id, u.DisplayName, u.Email!, c.CurrentDateOfBirth,
                c.RequestedDateOfBirth, c.Reason, c.RequestedAt))
            .Take(200).ToListAsync(ct);

    public async Task<IActionResult> OnPostAsync(Guid id, bool approve, CancellationToken ct)
    {
        await birthDates.DecideAsync(id, User.UserId(), approve, ct);
        return RedirectToPage();
    }
}
