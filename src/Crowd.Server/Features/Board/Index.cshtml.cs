using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Crowd.Server.Features.Board;

public sealed class IndexModel(CrowdDb db) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Language { get; set; }

    [BindProperty(SupportsGet = true, Name = "page")]
    public int PageNumber { get; set; } = 1;

    public BoardPage? Board { get; private set; }

    public bool InvalidFilter { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Language = Language?.Trim();
        if (BoardQuery.Validate(Language, PageNumber).Count > 0)
        {
            InvalidFilter = true;
            Language = null;
            PageNumber = 1;
        }
        Board = await BoardQuery.FindAsync(db, Language, PageNumber, ct);
    }
}
