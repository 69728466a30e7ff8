using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Reviews;

[Authorize(Policy = Roles.Contributor)]
public sealed class ValidateModel(PeerValidation peers, IStringLocalizer<ReviewsText> text) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public Guid JobId { get; set; }

    [BindProperty]
    public Guid ClipId { get; set; }

    [BindProperty]
    public bool Up { get; set; }

    public Job? Job { get; private set; }

    public ValidationClip? Clip { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        Job = await peers.JobForValidatorAsync(JobId, User.UserId(), ct);
        if (Job is null)
        {
            return NotFound();
        }
        Clip = await peers.NextAsync(Job, User.UserId(), ct);
        return Page();
    }

    public async Task<IActionResult> OnPostVoteAsync(CancellationToken ct)
    {
        var outcome = await peers.VoteAsync(ClipId, User.UserId(), Up, ct);
        if (outcome.Kind == ReviewOutcomeKind.NotFound)
        {
            return NotFound();
        }
        if (outcome.Kind == ReviewOutcomeKind.Refused)
        {
            ModelState.AddModelError("", text[outcome.Refusal!]);
        }
        return await OnGetAsync(ct);
    }
}
