using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Withdrawal;

[Authorize(Policy = Roles.Contributor)]
public sealed class MyDataModel(CrowdDb db, WithdrawalService withdrawals, IStringLocalizer<WithdrawalText> text) : PageModel
{
    public IReadOnlyList<MyJob> Jobs { get; private set; } = [];

    /// <summary>The clip (or job) whose withdrawal waits for its one confirmation.</summary>
    [BindProperty(SupportsGet = true)] public Guid? Confirm { get; set; }
    [BindProperty(SupportsGet = true)] public Guid? ConfirmJob { get; set; }

    [TempData]
    public string? Done { get; set; }

    public async Task OnGetAsync(CancellationToken ct) => Jobs = await MyData.ForContributorAsync(db, User.UserId(), ct);

    private static string Sentences(params LocalizedString?[] parts) => string.Join(" ", parts.OfType<LocalizedString>().Select(p => p.Value));

    public async Task<IActionResult> OnPostClipAsync(Guid clipId, CancellationToken ct)
    {
        var result = await withdrawals.WithdrawClipAsync(User.UserId(), clipId, ct);
        if (result.Outcome == WithdrawalOutcome.NotFound)
        {
            return NotFound();
        }
        Done = Sentences(text["The clip is withdrawn and its audio is destroyed for good."],
            result.NoticesSent == 0
                ? text["No buyer had received it yet."]
                : text.Plural(result.NoticesSent, "{0} buyer who had received it was told to delete it.", "{0} buyers who had received it were told to delete it."),
            text["Your pay stays yours."]);
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostJobAsync(Guid jobId, CancellationToken ct)
    {
        var result = await withdrawals.WithdrawJobAsync(User.UserId(), jobId, ct);
        if (result.Outcome == WithdrawalOutcome.NotFound)
        {
            return NotFound();
        }
        Done = Sentences(text["You withdrew from the job and took back your consent."],
            result.ClipsWithdrawn == 0
                ? text["You had no recordings left to destroy."]
                : text.Plural(result.ClipsWithdrawn, "The audio of {0} recording is destroyed for good.", "The audio of {0} recordings is destroyed for good."),
            result.ClipsWithdrawn == 0 ? null
                : result.NoticesSent == 0 ? text["No buyer had received them yet."]
                : text.Plural(result.NoticesSent, "{0} buyer who had received them was told to delete them.", "{0} buyers who had received them were told to delete them."),
            text["Your pay stays yours."]);
        return RedirectToPage();
    }
}
