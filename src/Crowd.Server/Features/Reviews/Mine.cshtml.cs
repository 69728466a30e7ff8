using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Reviews;

[Authorize(Policy = Roles.Contributor)]
public sealed class MineModel(ReviewService reviews, CrowdDb db, IStringLocalizer<ReviewsText> text) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Done { get; set; }

    [BindProperty]
    public Guid ClipId { get; set; }

    [BindProperty]
    public string? Note { get; set; }

    public IReadOnlyList<RejectionView> Rejections { get; private set; } = [];

    /// <summary>Jobs the contributor consented to that ask for peer validation.</summary>
    public IReadOnlyList<(Guid Id, string Title)> ValidationJobs { get; private set; } = [];

    public Guid? FailedClipId { get; private set; }

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostAppealAsync(CancellationToken ct)
    {
        ModelState.Clear();
        var outcome = await reviews.AppealAsync(User.UserId(), ClipId, Note, ct);
        switch (outcome.Kind)
        {
            case ReviewOutcomeKind.Ok:
                return RedirectToPage(new { done = "appealed" });
            case ReviewOutcomeKind.NotFound:
                return NotFound();
            case ReviewOutcomeKind.Refused:
                ModelState.AddModelError("", text[outcome.Refusal!]);
                break;
            default:
                ModelState.AddErrors(outcome.Errors!.Select(e => e with { Field = "Note" }), text);
                break;
        }
        FailedClipId = ClipId;
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var me = User.UserId();
        Rejections = await reviews.RejectionsOfAsync(me, ct);
        var jobs = await db.Jobs.AsNoTracking()
            .Where(j => j.PeerValidation && j.Status == JobStatus.Published
                        && db.Consents.Any(c => c.JobId == j.Id && c.JobVersion == j.Version && c.ContributorId == me && c.WithdrawnAt == null))
            .OrderBy(j => j.Terms.Title).Select(j => new { j.Id, j.Terms.Title }).ToListAsync(ct);
        ValidationJobs = jobs.Select(j => (j.Id, j.Title)).ToList();
    }
}
