using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Exports.Datasets;

/// <summary>A job's dataset in the browser: pick the declared use, see what qualifies and why the rest does not, export, download.</summary>
[Authorize(Policy = Roles.Requester)]
public sealed class IndexModel(DatasetPackages packages, CrowdDb db, IStringLocalizer<ExportsText> text) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Use { get; set; }

    public Job Job { get; private set; } = null!;
    public DatasetEligibility Eligibility { get; private set; } = null!;
    public List<(DatasetPackage Package, string Use)> Packages { get; private set; } = [];
    public string? Problem { get; private set; }

    public bool Busy => Packages.Any(p => p.Package.State is DatasetPackageState.Pending or DatasetPackageState.Building);

    public bool Downloadable(DatasetPackage package) => packages.Downloadable(package);

    public Task<IActionResult> OnGetAsync(CancellationToken ct) => ShowAsync(ct);

    public async Task<IActionResult> OnPostStartAsync(CancellationToken ct)
    {
        if (!DatasetRules.TryParseUse(Use, out var use))
        {
            return await ShowAsync(ct);
        }
        var outcome = await packages.StartAsync(DatasetsApi.Caller(User), Id, use, ct);
        switch (outcome.Kind)
        {
            case DatasetOutcomeKind.Created:
                return RedirectToPage(new { id = Id, use = DatasetRules.Name(use) });
            case DatasetOutcomeKind.JobNotFound:
                return NotFound();
            default:
                // Nothing was written: the page says why instead of handing out an empty file.
                Response.StatusCode = StatusCodes.Status409Conflict;
                return await ShowAsync(ct);
        }
    }

    public async Task<IActionResult> OnGetDownloadAsync(Guid exportId, CancellationToken ct)
    {
        var package = await packages.FindAsync(User.OrganisationIdOrNull()!.Value, exportId, ct);
        if (package is null || !await db.Set<DatasetExport>().AnyAsync(e => e.Id == exportId && e.JobId == Id, ct))
        {
            return NotFound();
        }
        if (!packages.Downloadable(package))
        {
            Problem = text["This download is not available: its time is over or it is not ready. Export the dataset again to download it."];
            Response.StatusCode = StatusCodes.Status410Gone;
            return await ShowAsync(ct);
        }
        await ZipDownload.SendAsync(HttpContext, package.FileName!, (body, cancel) => packages.DownloadAsync(package, body, cancel), ct);
        return new EmptyResult();
    }

    private async Task<IActionResult> ShowAsync(CancellationToken ct)
    {
        var organisationId = User.OrganisationIdOrNull()!.Value;
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == Id && j.OrganisationId == organisationId, ct);
        if (job is null)
        {
            return NotFound();
        }
        Job = job;
        if (!DatasetRules.TryParseUse(Use, out var use))
        {
            Problem = text["Declare the use as \"speech-recognition\" or \"voice-cloning\"."];
            Response.StatusCode = StatusCodes.Status400BadRequest;
            use = DatasetUse.SpeechRecognition;
        }
        Use = DatasetRules.Name(use);
        Eligibility = (await packages.EligibilityAsync(organisationId, Id, use, ct))!;
        Packages = await packages.OfJobAsync(organisationId, Id, ct);
        return Page();
    }
}
