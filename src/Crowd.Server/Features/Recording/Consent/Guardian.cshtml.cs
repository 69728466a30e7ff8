using Crowd.Server.Features.Recording;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Recording.Consent;

/// <summary>
/// Where a minor's guardian lands from the mailed link: the same text the minor read, and a typed name to confirm.
/// The guardian needs no account; the single-use link is the proof they received the mail.
/// </summary>
[AllowAnonymous]
public sealed class GuardianModel(ConsentService consents, IStringLocalizer<ConsentText> text) : PageModel
{
    public GuardianScreen? Screen { get; private set; }

    public bool Confirmed { get; private set; }

    [BindProperty]
    public string? GuardianName { get; set; }

    public async Task<IActionResult> OnGetAsync(string token, CancellationToken ct)
    {
        Screen = await consents.GuardianScreenAsync(token, ct);
        return Show();
    }

    public async Task<IActionResult> OnPostAsync(string token, CancellationToken ct)
    {
        var outcome = await consents.ConfirmGuardianAsync(token, GuardianName, ct);
        if (outcome.ConsentId is not null)
        {
            Confirmed = true;
            return Page();
        }
        if (outcome.Errors is { Count: > 0 } errors)
        {
            ModelState.AddErrors(errors, text);
        }
        Screen = outcome.State == GuardianLinkState.Open ? await consents.GuardianScreenAsync(token, ct) : new GuardianScreen(outcome.State);
        return Show();
    }

    /// <summary>A link that cannot be used answers with a status that says why, and a page that says what to do.</summary>
    private PageResult Show()
    {
        Response.StatusCode = Screen!.State switch
        {
            GuardianLinkState.Unknown => StatusCodes.Status404NotFound,
            GuardianLinkState.AlreadyUsed or GuardianLinkState.Expired => StatusCodes.Status410Gone,
            GuardianLinkState.TermsChanged => StatusCodes.Status409Conflict,
            _ when !ModelState.IsValid => StatusCodes.Status400BadRequest,
            _ => StatusCodes.Status200OK,
        };
        return Page();
    }
}
