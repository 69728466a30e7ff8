using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Withdrawal;

[Authorize(Policy = Roles.Contributor)]
public sealed class MyDataModel(CrowdDb db, WithdrawalService withdrawals, IStringLocalizer<WithdrawalText> text) : PageModel
{
    public IReadOnlyList<MyJob> Jobs { get; private set; } = [];

    [TempData]
    public string? Done { get; set; }

    public async Task OnGetAsync(CancellationToken ct) => Jobs = await MyData.ForContributorAsync(db, User.UserId(), ct);

    public async Task<IActionResult> OnPostClipAsync(Guid clipId, CancellationToken ct)
    {
        var result = await withdrawals.WithdrawClipAsync(User.UserId(), clipId, ct);
        if (result.Outcome == WithdrawalOutcome.NotFound)
        {
            return NotFound();
        }
        Done = text["The clip is withdrawn and its audio destroyed. Buyers who received it were told to delete it ({0}). Your pay stays yours.",
            result.NoticesSent];
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostJobAsync(Guid jobId, CancellationToken ct)
    {
        var result = await withdrawals.WithdrawJobAsync(User.UserId(), jobId, ct);
        if (result.Outcome == WithdrawalOutcome.NotFound)
        {
            return NotFound();
        }
        Done = text["You withdrew from the job: consent taken back, the audio of {0} clips destroyed, {1} buyers told to delete their copies. Your pay stays yours.",
            result.ClipsWithdrawn, result.NoticesSent];
        return RedirectToPage();
    }
}
