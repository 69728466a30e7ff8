using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Reviews;

[Authorize(Policy = Roles.Admin)]
public sealed class AppealsModel(ReviewService reviews, IStringLocalizer<ReviewsText> text) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Done { get; set; }

    [BindProperty]
    public Guid ClipId { get; set; }

    [BindProperty]
    public string? Outcome { get; set; }

    [BindProperty]
    public string? Note { get; set; }

    public IReadOnlyList<RejectionView> Appeals { get; private set; } = [];

    public Guid? FailedClipId { get; private set; }

    public async Task OnGetAsync(CancellationToken ct) => Appeals = await reviews.PendingAppealsAsync(ct);

    public async Task<IActionResult> OnPostDecideAsync(CancellationToken ct)
    {
        ModelState.Clear();
        var outcome = await reviews.DecideAppealAsync(User.UserId(), ClipId, Outcome, Note, ct);
        switch (outcome.Kind)
        {
            case ReviewOutcomeKind.Ok:
                return RedirectToPage(new { done = Outcome?.Trim().ToLowerInvariant() == "reverse" ? "reversed" : "upheld" });
            case ReviewOutcomeKind.NotFound:
                return NotFound();
            case ReviewOutcomeKind.Refused:
                ModelState.AddModelError("", text[outcome.Refusal!]);
                break;
            default:
                ModelState.AddErrors(outcome.Errors!.Select(e => e with { Field = char.ToUpperInvariant(e.Field[0]) + e.Field[1..] }), text);
                break;
        }
        FailedClipId = ClipId;
        Appeals = await reviews.PendingAppealsAsync(ct);
        return Page();
    }
}
