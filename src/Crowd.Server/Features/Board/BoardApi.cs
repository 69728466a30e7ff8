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
    public static async Task<BoardPage> FindAsync(CrowdDb db, string? language, int page, CancellationToken ct)
    {
        var query = db.Jobs.AsNoTracking().Where(j => j.Status == JobStatus.Published);
        if (!string.IsNullOrEmpty(language))
        {
            // The tag was checked to be letters, digits and hyphens, so it carries no LIKE wildcards.
            var prefix = language + "-%";
            query = query.Where(j => EF.Functions.ILike(j.Language, language) || EF.Functions.ILike(j.Language, prefix));
        }
        // Only live jobs: a published job whose escrow does not cover its budget, or that is paused, takes no one's time.
        var live = await JobFunding.LiveIdsAsync(db, query, ct);
        query = query.Where(j => live.Contains(j.Id));
        var total = await query.CountAsync(ct);
        var jobs = await query.OrderByDescending(j => j.PublishedAt).ThenByDescending(j => j.Id)
            .Skip((page - 1) * PageSize).Take(PageSize).ToListAsync(ct);
        return new BoardPage(jobs.Select(ToBoardJob).ToArray(), page, PageSize, total, language);
    }

    private static BoardJob ToBoardJob(Job j)
    {
        var rate = new Money(j.HourlyRateMinor, j.Currency);
        string[] purposes = (j.PurposeSpeechRecognition, j.PurposeVoiceCloning) switch
        {
            (true, true) => [SpeechRecognition, VoiceCloning],
            (true, false) => [SpeechRecognition],
            _ => [VoiceCloning],
        };
        return new BoardJob(j.Id, j.Version, j.Title, j.Description, j.Language, rate, Currencies.Format(rate),
            j.EstimatedSecondsPerClip, j.BuyerName, purposes, j.RetentionDays, j.PublishedAt);
    }
}

public static class BoardApi
{
    public static IEndpointRouteBuilder MapBoard(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/board").WithTags("Job board").AllowAnonymous().RequireRateLimiting(WebSetup.ApiLimit)
            .MapGet("/", Get);
        return app;
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
