using Crowd.Server.Features.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Jobs.Dashboard;

/// <summary>The requester's home for a job: progress, money, pay, quality and people, kept live by the dashboard hub.</summary>
[Authorize(Policy = Roles.Requester)]
public sealed class IndexModel(JobDashboards dashboards, IStringLocalizer<DashboardText> text) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    public Job Job { get; private set; } = null!;

    public DashboardView View { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var figures = await dashboards.FiguresAsync(User.OrganisationIdOrNull()!.Value, Id, ct);
        if (figures is null)
        {
            return NotFound();
        }
        Job = figures.Job;
        View = DashboardView.From(figures, text);
        return Page();
    }
}
