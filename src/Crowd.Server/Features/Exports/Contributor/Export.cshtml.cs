using Crowd.Server.Features.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Exports.Contributor;

[Authorize(Policy = Roles.Contributor)]
public sealed class ExportModel(ContributorExports exports, IStringLocalizer<ExportsText> text) : PageModel
{
    public ContributorExport? Latest { get; private set; }
    public string? Token { get; private set; }
    public string? Problem { get; private set; }

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostPrepareAsync(CancellationToken ct)
    {
        await exports.RequestAsync(User.UserId(), ct);
        return RedirectToPage();
    }

    public async Task<IActionResult> OnGetDownloadAsync(string? token, CancellationToken ct)
    {
        if (await exports.ResolveAsync(User.UserId(), token, ct) is { } export)
        {
            await ZipDownload.SendAsync(HttpContext, $"crowd-my-data-{export.ReadyAt!.Value:yyyyMMdd-HHmm}.zip",
                (body, cancel) => exports.DownloadAsync(export, body, cancel), ct);
            return new EmptyResult();
        }
        Problem = text["This download link has expired or is not valid. Prepare your data again to get a new link."];
        Response.StatusCode = StatusCodes.Status410Gone;
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Latest = await exports.LatestAsync(User.UserId(), ct);
        if (Latest is { State: ContributorExportState.Ready, ExpiresAt: not null })
        {
            Token = exports.TokenFor(Latest);
        }
    }
}
