using System.Globalization;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Recording;

/// <summary>
/// A job's consent on a screen of its own, never bundled with anything else: the exact text, a separate voice-cloning
/// box (unticked), a typed signature, Consent and Decline. Under 18 the same screen asks for a guardian's email instead.
/// </summary>
[Authorize(Policy = Roles.Contributor)]
public sealed class ConsentModel(ConsentService consents, IStringLocalizer<ConsentText> text) : PageModel
{
    public ConsentScreen? Screen { get; private set; }

    /// <summary>Set when the terms changed while the contributor was reading: the page shows the new text instead.</summary>
    public string? Notice { get; private set; }

    public bool GuardianRequested { get; private set; }

    [BindProperty]
    public int? Version { get; set; }

    [BindProperty]
    public string? TextSha256 { get; set; }

    [BindProperty]
    public string? Signature { get; set; }

    [BindProperty]
    public bool VoiceCloning { get; set; }

    [BindProperty]
    public string? GuardianEmail { get; set; }

    public async Task<IActionResult> OnGetAsync(Guid jobId, CancellationToken ct)
    {
        if (!await LoadAsync(jobId, ct))
        {
            return NotFound();
        }
        return Screen!.Consented ? Redirect($"/Recording/{jobId}") : Page();
    }

    public async Task<IActionResult> OnPostAsync(Guid jobId, CancellationToken ct)
    {
        var outcome = await consents.GiveAsync(jobId, User.UserId(), Signed(), ct);
        return outcome.Kind == ConsentOutcomeKind.Given ? Redirect($"/Recording/{jobId}") : await RefusedAsync(jobId, outcome, ct);
    }

    public async Task<IActionResult> OnPostGuardianAsync(Guid jobId, CancellationToken ct)
    {
        var outcome = await consents.RequestGuardianAsync(jobId, User.UserId(), Signed(), ct);
        if (outcome.Kind != ConsentOutcomeKind.GuardianRequested)
        {
            return await RefusedAsync(jobId, outcome, ct);
        }
        GuardianRequested = true;
        await LoadAsync(jobId, ct);
        return Page();
    }

    /// <summary>Declining writes nothing and changes nothing about the account.</summary>
    public IActionResult OnPostDecline() => Redirect("/");

    private ConsentRequest Signed() => new(Version, TextSha256, Signature, VoiceCloning, GuardianEmail);

    private async Task<IActionResult> RefusedAsync(Guid jobId, ConsentOutcome outcome, CancellationToken ct)
    {
        if (!await LoadAsync(jobId, ct))
        {
            return NotFound();
        }
        switch (outcome.Kind)
        {
            case ConsentOutcomeKind.Invalid:
                ModelState.AddErrors(outcome.Errors!, text);
                break;
            case ConsentOutcomeKind.NotCurrentVersion or ConsentOutcomeKind.TextChanged:
                Notice = text["The terms changed while you were reading. This is the current text (version {0}); read it before you consent.", outcome.CurrentVersion];
                Signature = null;
                VoiceCloning = false;
                break;
            case ConsentOutcomeKind.NeedsGuardian or ConsentOutcomeKind.NotAMinor:
                break; // the screen shows the right form for the contributor's age
            default:
                return NotFound();
        }
        return Page();
    }

    private async Task<bool> LoadAsync(Guid jobId, CancellationToken ct)
    {
        Screen = await consents.ScreenAsync(jobId, User.UserId(), ConsentDocument.CultureFor(CultureInfo.CurrentUICulture), ct);
        return Screen is not null;
    }
}
