using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Accounts.Profile;

/// <summary>
/// "My profile": where the contributor lives, the languages they speak (native language and accent as on "My speech"),
/// and optional demographics. A refused form comes back as typed, with each problem beside its field.
/// </summary>
[Authorize(Policy = Roles.Contributor)]
public sealed class IndexModel(ContributorProfiles profiles, IStringLocalizer<AccountsText> text) : PageModel
{
    [BindProperty]
    public string? Region { get; set; }

    [BindProperty]
    public string? Language { get; set; }

    [BindProperty]
    public string? Accent { get; set; }

    [BindProperty]
    public string? Languages { get; set; }

    [BindProperty]
    public string? Gender { get; set; }

    [BindProperty]
    public string? AgeBand { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Done { get; set; }

    public IReadOnlyList<RegionChoice> Regions { get; private set; } = [];

    /// <summary>The band of the date of birth on the account: what "share my age group" would count.</summary>
    public AgeBand Band { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        var id = User.UserId();
        var profile = await profiles.FindAsync(id, ct);
        (Region, Languages, Gender, AgeBand) = (profile?.Region, string.Join(", ", profile?.Languages ?? []), profile?.Gender, profile?.AgeBand);
        await LoadSpeechAsync(id, ct);
        await LoadChoicesAsync(ct);
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        ModelState.Clear();
        var errors = await profiles.SaveAsync(User.UserId(), new ProfileForm(Region, Language, Accent, Languages, Gender, AgeBand), ct);
        if (errors.Count == 0)
        {
            return RedirectToPage(new { done = "saved" });
        }
        ModelState.AddErrors(errors, text);
        await LoadChoicesAsync(ct);
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private async Task LoadSpeechAsync(Guid id, CancellationToken ct)
    {
        var speech = await profiles.SpeechAsync(id, ct);
        (Language, Accent) = (speech?.Language, speech?.Accent);
    }

    private async Task LoadChoicesAsync(CancellationToken ct)
    {
        Regions = await profiles.RegionsAsync(ct);
        Band = await profiles.AgeBandAsync(User.UserId(), ct);
    }
}
