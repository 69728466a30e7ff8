using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Jobs.Assessments;

/// <summary>The requester's impact assessment of a job: the form, and every version submitted with its review.</summary>
[Authorize(Policy = Roles.Requester)]
public sealed class EditModel(ImpactAssessments assessments, CrowdDb db, IStringLocalizer<AssessmentsText> text) : PageModel
{
    [BindProperty]
    public AssessmentForm Form { get; set; } = new();

    public Job? Job { get; private set; }

    public IReadOnlyList<ImpactAssessment> History { get; private set; } = [];

    public bool Submitted { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid jobId, bool submitted, CancellationToken ct)
    {
        if (!await LoadAsync(jobId, ct))
        {
            return NotFound();
        }
        Submitted = submitted;
        if (History.Count > 0)
        {
            Form = AssessmentForm.From(History[0].Answers);
        }
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(Guid jobId, CancellationToken ct)
    {
        var outcome = await assessments.SubmitAsync(Org, User.UserId(), jobId, Form.ToAnswers(), ct);
        switch (outcome.Kind)
        {
            case AssessmentOutcomeKind.Ok:
                return RedirectToPage(new { jobId, submitted = true });
            case AssessmentOutcomeKind.NotFound:
                return NotFound();
            case AssessmentOutcomeKind.JobClosed:
                ModelState.AddModelError("", text["This job is closed: its assessments are kept as they are."]);
                break;
            default:
                ModelState.AddErrors(outcome.Errors!.Select(e => e with { Field = "Form." + char.ToUpperInvariant(e.Field[0]) + e.Field[1..] }), text);
                break;
        }
        await LoadAsync(jobId, ct);
        return Page();
    }

    private Guid Org => User.OrganisationIdOrNull() ?? throw new InvalidOperationException("The requester policy guarantees an organisation.");

    private async Task<bool> LoadAsync(Guid jobId, CancellationToken ct)
    {
        var org = Org;
        Job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId && j.OrganisationId == org, ct);
        History = Job is null ? [] : await assessments.HistoryAsync(org, jobId, ct);
        return Job is not null;
    }
}

/// <summary>The form's fields; the names match the API's answers.</summary>
public sealed class AssessmentForm
{
    public string? PurposeAndNecessity { get; set; }
    public string? DataCollected { get; set; }
    public string? RiskVoiceCloning { get; set; }
    public string? RiskReidentification { get; set; }
    public string? RiskMinors { get; set; }
    public string? RiskDeepSynthesis { get; set; }
    public string? Safeguards { get; set; }
    public string? Retention { get; set; }
    public string? Recipients { get; set; }

    public static AssessmentForm From(AssessmentAnswers a) => new()
    {
        PurposeAndNecessity = a.PurposeAndNecessity, DataCollected = a.DataCollected, RiskVoiceCloning = a.RiskVoiceCloning,
        RiskReidentification = a.RiskReidentification, RiskMinors = a.RiskMinors, RiskDeepSynthesis = a.RiskDeepSynthesis,
        Safeguards = a.Safeguards, Retention = a.Retention, Recipients = a.Recipients,
    };

    public AssessmentAnswers ToAnswers() => new(PurposeAndNecessity, DataCollected, RiskVoiceCloning, RiskReidentification, RiskMinors,
        RiskDeepSynthesis, Safeguards, Retention, Recipients);
}
