using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Reviews;

/// <summary>A clip in the queue with its waveform, drawn from the audio read for this page.</summary>
public sealed record QueueItem(QueueClip Clip, string? WaveformSvg);

[Authorize(Policy = Roles.Requester)]
public sealed class IndexModel(ReviewService reviews, IStringLocalizer<ReviewsText> text) : PageModel
{
    /// <summary>A page of compact rows: a reviewer working by keyboard goes through a hundred without loading another.</summary>
    private const int PageSize = 100;

    [BindProperty(SupportsGet = true)]
    public Guid JobId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Done { get; set; }

    [BindProperty(SupportsGet = true)]
    public double? MinSnr { get; set; }

    [BindProperty(SupportsGet = true)]
    public double? MinSpeech { get; set; }

    [BindProperty(SupportsGet = true)]
    public double? MinSeconds { get; set; }

    [BindProperty(SupportsGet = true)]
    public double? MaxSeconds { get; set; }

    /// <summary>How many clips the last "accept every clip I played" accepted.</summary>
    [BindProperty(SupportsGet = true)]
    public int? AcceptedPlayed { get; set; }

    [BindProperty]
    public Guid ClipId { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    [BindProperty]
    public string? Note { get; set; }

    public Job? Job { get; private set; }

    public int Waiting { get; private set; }

    public int AutoAcceptDays => reviews.AutoAcceptDays;

    public IReadOnlyList<QueueItem> Items { get; private set; } = [];

    /// <summary>The clip whose form has errors, so its fields keep what was typed.</summary>
    public Guid? FailedClipId { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) => await LoadAsync(ct) ? Page() : NotFound();

    public async Task<IActionResult> OnPostAcceptAsync(CancellationToken ct) =>
        await HandleAsync(await reviews.AcceptAsync(Org, User.UserId(), ClipId, ct), "accepted", ct);

    public async Task<IActionResult> OnPostRejectAsync(CancellationToken ct) =>
        await HandleAsync(await reviews.RejectAsync(Org, User.UserId(), ClipId, Reason, Note, ct), "rejected", ct);

    public async Task<IActionResult> OnPostAcceptPlayedAsync(CancellationToken ct) =>
        await reviews.JobOfAsync(Org, JobId, ct) is null
            ? NotFound()
            : RedirectToPage(new { jobId = JobId, acceptedPlayed = await reviews.AcceptPlayedAsync(Org, User.UserId(), JobId, ct) });

    public QueueFilter Filter => new(MinSnr, MinSpeech, MinSeconds, MaxSeconds);

    private async Task<IActionResult> HandleAsync(ReviewOutcome outcome, string done, CancellationToken ct)
    {
        ModelState.Clear();
        switch (outcome.Kind)
        {
            case ReviewOutcomeKind.Ok:
                return RedirectToPage(new { jobId = JobId, done, minSnr = MinSnr, minSpeech = MinSpeech, minSeconds = MinSeconds, maxSeconds = MaxSeconds });
            case ReviewOutcomeKind.NotFound:
                return NotFound();
            case ReviewOutcomeKind.Refused:
                ModelState.AddModelError("", text[outcome.Refusal!]);
                break;
            default:
                ModelState.AddErrors(outcome.Errors!.Select(e => e with { Field = char.ToUpperInvariant(e.Field[0]) + e.Field[1..] }), text);
                break;
        }
        FailedClipId = ClipId;
        return await LoadAsync(ct) ? Page() : NotFound();
    }

    private Guid Org => User.OrganisationIdOrNull()!.Value;

    private async Task<bool> LoadAsync(CancellationToken ct)
    {
        Job = await reviews.JobOfAsync(Org, JobId, ct);
        if (Job is null)
        {
            return false;
        }
        var filter = Filter;
        var filterErrors = ReviewRules.ValidateFilter(filter);
        // Shown at the top: the filter's own fields sit in a form of their own, and each message names its field.
        ModelState.AddErrors(filterErrors.Select(e => e with { Field = "" }), text);
        var (waiting, clips) = await reviews.QueueAsync(JobId, PageSize, ct, filterErrors.Count == 0 ? filter : null);
        Waiting = waiting;
        var items = new List<QueueItem>(clips.Count);
        foreach (var clip in clips)
        {
            var wav = await reviews.ReadAudioAsync(clip.ClipId, User.UserId(), Roles.Requester, AudioPurpose.Review, ct);
            items.Add(new QueueItem(clip, wav is null ? null : Waveform.Svg(Waveform.Peaks(wav, 150))));
        }
        Items = items;
        return true;
    }
}
