using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Board;

public sealed record BoardJob(
    Guid Id, int Version, string Title, string Description, string Language, Money HourlyRate, string HourlyRateFormatted,
    int EstimatedSecondsPerClip, string BuyerName, string[] Purposes, int RetentionDays, DateTimeOffset? PublishedAt);

public sealed record BoardPage(BoardJob[] Jobs, int Page, int PageSize, int Total, string? Language);

/// <summary>The published jobs a contributor can choose from; shared by the API and the home page.</summary>
public static class BoardQuery
{
    public const int PageSize = 20;
    public const string SpeechRecognition = "speechRecognition";
    public const string VoiceCloning = "voiceCloning";

    public static List<FieldError> Validate(string? language, int page)
    {
        var errors = new List<FieldError>();
        if (!string.IsNullOrEmpty(language) && !JobRules.IsLanguageTag(language))
        {
            errors.Add(new("language", "Use a language tag like zh or zh-CN to filter the jobs."));
        }
        if (page < 1)
        {
            errors.Add(new("page", "Pages start at 1."));
        }
        return errors;
    }

    /// <summary>"zh" finds "zh", "zh-CN" and "zh-Hans-CN"; tags compare without regard to case, as BCP 47 says.</summary>
    public static Task<BoardPage> FindAsync(CrowdDb db, string? language, int page, CancellationToken ct) =>
        FindAsync(db, language, speaks: [], showAll: true, page, ct);

    /// <summary>
    /// The board as someone who speaks <paramref name="speaks"/> (native language first) sees it: jobs in their native
    /// language first, then in their other languages, then the rest (only when <paramref name="showAll"/>), newest first
    /// within each. A language matches jobs in any variety of it: zh-CN finds zh, zh-CN and zh-TW.
    /// </summary>
    public static async Task<BoardPage> FindAsync(CrowdDb db, string? language, string[] speaks, bool showAll, int page, CancellationToken ct)
    {
        var query = db.Jobs.AsNoTracking().Where(j => j.Status == JobStatus.Published);
        if (!string.IsNullOrEmpty(language))
        {
            // The tag was checked to be letters, digits and hyphens, so it carries no LIKE wildcards.
            var prefix = language + "-%";
            query = query.Where(j => EF.Functions.ILike(j.Terms.Language, language) || EF.Functions.ILike(j.Terms.Language, prefix));
        }
        var native = LanguagePatterns(speaks.Take(1));
        var spoken = LanguagePatterns(speaks);
        if (string.IsNullOrEmpty(language) && spoken.Length > 0 && !showAll)
        {
            query = query.Where(j => spoken.Any(p => EF.Functions.ILike(j.Terms.Language, p)));
        }
        // Only live jobs: a published job whose escrow does not cover its budget, or that is paused, takes no one's time.
        var live = await JobFunding.LiveIdsAsync(db, query, ct);
        query = query.Where(j => live.Contains(j.Id));
        var total = await query.CountAsync(ct);
        var ordered = spoken.Length == 0
            ? query.OrderByDescending(j => j.PublishedAt)
            : query.OrderBy(j => native.Any(p => EF.Functions.ILike(j.Terms.Language, p)) ? 0 : spoken.Any(p => EF.Functions.ILike(j.Terms.Language, p)) ? 1 : 2)
                .ThenByDescending(j => j.PublishedAt);
        var jobs = await ordered.ThenByDescending(j => j.Id).Skip((page - 1) * PageSize).Take(PageSize).ToListAsync(ct);
        return new BoardPage(jobs.Select(ToBoardJob).ToArray(), page, PageSize, total, language);
    }

    /// <summary>ILIKE patterns for every variety of each language: "zh-CN" gives "zh" and "zh-%". Tags were checked at saving, so they hold no wildcards.</summary>
    private static string[] LanguagePatterns(IEnumerable<string> tags) =>
        tags.Select(t => t.Split('-')[0]).Distinct(StringComparer.OrdinalIgnoreCase).SelectMany(primary => new[] { primary, primary + "-%" }).ToArray();

    private static BoardJob ToBoardJob(Job j)
    {
        var t = j.Terms;
        string[] purposes = (t.PurposeSpeechRecognition, t.PurposeVoiceCloning) switch
        {
            (true, true) => [SpeechRecognition, VoiceCloning],
            (true, false) => [SpeechRecognition],
            _ => [VoiceCloning],
        };
        return new BoardJob(j.Id, j.Version, t.Title, t.Description, t.Language, t.HourlyRate, Currencies.Format(t.HourlyRate),
            t.EstimatedSecondsPerClip, t.BuyerName, purposes, t.RetentionDays, j.PublishedAt);
    }
}

public static class BoardApi
{
    public static RouteGroupBuilder MapBoard(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/board").WithTags("Job board").AllowAnonymous().RequireRateLimiting(WebSetup.ApiLimit);
        group.MapGet("/", Get);
        return group;
    }

    private static async Task<Results<Ok<BoardPage>, ValidationProblem>> Get(
        string? language, int? page, CrowdDb db, IStringLocalizer<BoardText> text, CancellationToken ct)
    {
        var errors = BoardQuery.Validate(language, page ?? 1);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors, text);
        }
        return TypedResults.Ok(await BoardQuery.FindAsync(db, language?.Trim(), page ?? 1, ct));
    }
}

/// <summary>Texts of the job board. Translations in BoardText.zh-Hans.resx.</summary>
public sealed class BoardText;
