using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Crowd.Server.Features.Processing;

[Authorize(Policy = Roles.Admin)]
public sealed class IndexModel(CrowdDb db, TimeProvider clock) : PageModel
{
    public ProcessingReport Report { get; private set; } = new(DateTimeOffset.MinValue, "", []);

    public async Task OnGetAsync(CancellationToken ct) => Report = await ProcessingRecords.BuildAsync(db, clock.GetUtcNow(), ct);
}

[Authorize(Policy = Roles.Admin)]
public sealed class ReportModel(CrowdDb db, TimeProvider clock) : PageModel
{
    public ProcessingReport Report { get; private set; } = new(DateTimeOffset.MinValue, "", []);

    public async Task OnGetAsync(bool download, CancellationToken ct)
    {
        Report = await ProcessingRecords.BuildAsync(db, clock.GetUtcNow(), ct);
        if (download)
        {
            Response.Headers.ContentDisposition = $"attachment; filename=\"records-of-processing-{Report.GeneratedAt:yyyy-MM-dd}.html\"";
        }
    }
}
