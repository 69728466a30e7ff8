using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Accounts.Speech;

/// <summary>
/// "My speech": the contributor's language and accent. The form is the partial <c>_SpeakerProfileForm.cshtml</c>, so that
/// a profile page can hold it as one section; this page only hosts it.
/// </summary>
[Authorize(Policy = Roles.Contributor)]
public sealed class IndexModel(SpeakerProfiles profiles, IStringLocalizer<AccountsText> text) : PageModel
{
    [BindProperty]
    public string? Language { get; set; }

    [BindProperty]
    public string? Accent { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Done { get; set; }

    public bool Stated { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        var profile = await profiles.FindAsync(User.UserId(), ct);
        (Language, Accent, Stated) = (profile?.Language, profile?.Accent, profile is not null);
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        ModelState.Clear();
        var errors = await profiles.SaveAsync(User.UserId(), Language, Accent, ct);
        if (errors.Count == 0)
        {
            return RedirectToPage(new { done = "saved" });
        }
        ModelState.AddErrors(errors, text);
        Stated = await profiles.FindAsync(User.UserId(), ct) is not null;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    public async Task<IActionResult> OnPostRemoveAsync(CancellationToken ct)
    {
        await profiles.RemoveAsync(User.UserId(), ct);
        return RedirectToPage(new { done = "removed" });
    }
}
