using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Accounts.Profile;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Board;

/// <summary>
/// The job board. A contributor sees jobs in the languages of their profile (or all jobs, theirs first) and each job's pay
/// against the floor of the region they live in; anyone else sees every job, newest first.
/// </summary>
public sealed class IndexModel(CrowdDb db, ContributorProfiles profiles) : PageModel
{
    private IReadOnlyCollection<RateFloor> _homeFloors = [];

    [BindProperty(SupportsGet = true)]
    public string? Language { get; set; }

    [BindProperty(SupportsGet = true, Name = "page")]
    public int PageNumber { get; set; } = 1;

    /// <summary>Every job, not only those in the contributor's languages.</summary>
    [BindProperty(SupportsGet = true)]
    public bool All { get; set; }

    public BoardPage? Board { get; private set; }

    public bool InvalidFilter { get; private set; }

    public bool IsContributor => User.IsInRole(Roles.Contributor);

    public Speaker Speaker { get; private set; } = Speaker.Unknown;

    /// <summary>Jobs are narrowed to the contributor's languages: they stated some, and asked neither for all nor for one language.</summary>
    public bool InTheirLanguages => Speaker.Languages.Length > 0 && !All && string.IsNullOrEmpty(Language);

    public async Task OnGetAsync(CancellationToken ct)
    {
        Language = Language?.Trim();
        if (BoardQuery.Validate(Language, PageNumber).Count > 0)
        {
            InvalidFilter = true;
            Language = null;
            PageNumber = 1;
        }
        if (IsContributor)
        {
            Speaker = await profiles.SpeakerAsync(User.UserId(), ct);
            if (Speaker.Region is { } region)
            {
                _homeFloors = await db.RateFloors.AsNoTracking().Where(f => f.Region == region).ToListAsync(ct);
            }
        }
        Board = await BoardQuery.FindAsync(db, Language, Speaker.Languages, showAll: !InTheirLanguages, PageNumber, ct);
    }

    /// <summary>The job's pay against the floor where the contributor lives; null when they have not said where that is.</summary>
    public PayComparison? AgainstHome(BoardJob job) => PayFloor.Compare(job.HourlyRate, _homeFloors);

    public string PageLink(int page) =>
        $"/?language={Uri.EscapeDataString(Language ?? "")}&page={page}" + (All ? "&all=true" : "");
}
