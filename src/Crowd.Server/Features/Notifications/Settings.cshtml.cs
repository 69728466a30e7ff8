using Crowd.Server.Features.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Crowd.Server.Features.Notifications;

[Authorize]
public sealed class SettingsModel(Notifications notifications) : PageModel
{
    public IReadOnlyList<NotificationSetting> Settings { get; private set; } = [];

    [BindProperty(SupportsGet = true)]
    public bool Saved { get; set; }

    public async Task OnGetAsync(CancellationToken ct) =>
        Settings = await notifications.SettingsAsync(User.UserId(), NotificationsSetup.RolesOf(User), ct);

    /// <summary>Every kind offered comes back in Kinds; a box left unticked is a kind switched off there.</summary>
    public async Task<IActionResult> OnPostAsync(string[]? kinds, string[]? inApp, string[]? email, CancellationToken ct)
    {
        var (parsed, errors) = NotificationRules.Parse(
            (kinds ?? []).Select(k => new NotificationSettingDto(k, inApp?.Contains(k) == true, email?.Contains(k) == true)).ToList(),
            NotificationsSetup.RolesOf(User));
        if (errors.Count > 0)
        {
            return BadRequest();
        }
        await notifications.SaveSettingsAsync(User.UserId(), parsed, ct);
        return RedirectToPage(new { saved = true });
    }
}
