using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Jobs.Assessments;

public sealed record WaitingAssessment(ImpactAssessment Assessment, string JobTitle, string Organisation);

/// <summary>Admins approve impact assessments or send them back with reasons; each decision is audited.</summary>
[Authorize(Policy = Roles.Admin)]
public sealed class ReviewModel(ImpactAssessments assessments, CrowdDb db, IStringLocalizer<AssessmentsText> text) : PageModel
{
    public IReadOnlyList<WaitingAssessment> Waiting { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostAsync(Guid id, bool approve, string? reasons, CancellationToken ct)
    {
        var outcome = await assessments.ReviewAsync(User.UserId(), id, new AssessmentReviewRequest(approve, reasons), ct);
        if (outcome.Kind is AssessmentOutcomeKind.Ok or AssessmentOutcomeKind.AlreadyReviewed or AssessmentOutcomeKind.NotFound)
        {
            return RedirectToPage();
        }
        ModelState.AddErrors(outcome.Errors!.Select(e => e with { Field = "" }), text);
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var waiting = await assessments.WaitingAsync(ct);
        var ids = waiting.Select(a => a.JobId).Distinct().ToArray();
        var jobs = await db.Jobs.AsNoTracking().Where(j => ids.Contains(j.Id))
            .Join(db.Organisations, j => j.OrganisationId, o => o.Id, (j, o) => new { j.Id, j.Terms.Title, o.Name })
            .ToDictionaryAsync(j => j.Id, ct);
        Waiting = waiting.Select(a => new WaitingAssessment(a, jobs[a.JobId].Title, jobs[a.JobId].Name)).ToList();
    }
}
