using System.Security.Claims;
using Crowd.Audio.Analysis;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Scheduling;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Reviews;

public sealed record RejectRequest(string? Reason, string? Note);

public sealed record AppealRequest(string? Note);

public sealed record DecisionRequest(string? Outcome, string? Note);

public sealed record VoteRequest(bool Up);

public sealed record QueueClipResponse(Guid ClipId, string Prompt, int DurationMs, ClipReport? Metrics, DateTimeOffset RecordedAt,
    DateTimeOffset AutoAcceptAt, string AudioUrl);

/// <summary>How many clips "accept every clip I played that passed the analyzer" accepted.</summary>
public sealed record AcceptedPlayedResponse(int Accepted);

public sealed record QueueResponse(Guid JobId, int Waiting, int AutoAcceptDays, QueueClipResponse[] Clips);

public sealed record RejectionResponse(Guid ClipId, Guid JobId, string JobTitle, string Prompt, string Reason, string ReasonLabel, string Note,
    bool ByPeers, DateTimeOffset RejectedAt, string? AppealNote, DateTimeOffset? AppealedAt, string? Outcome, string? DecisionNote,
    DateTimeOffset? DecidedAt, long? PayReversedMinor, bool CanAppeal, DateTimeOffset? AppealBy = null)
{
    public static RejectionResponse From(RejectionView v, IStringLocalizer text) => new(
        v.ClipId, v.JobId, v.JobTitle, v.PromptText, v.Reason.Code(), text[v.Reason.Label()], v.Note, v.ByPeers, v.RejectedAt, v.AppealNote,
        v.AppealedAt, v.Outcome switch { AppealOutcome.Upheld => "upheld", AppealOutcome.Reversed => "reversed", _ => null }, v.DecisionNote,
        v.DecidedAt, v.PayReversedMinor, v.AppealedAt is null && v.PayTakenBackAt is null, v.AppealBy);
}

public sealed record ValidationClipResponse(Guid ClipId, string Prompt, int DurationMs, string AudioUrl);

public static class ReviewsApi
{
    public static WebApplicationBuilder AddReviews(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<ReviewService>();
        builder.Services.AddScoped<PeerValidation>();
        builder.Services.AddScoped<AutoAccept>();
        builder.Services.AddScoped<FraudAppealWindow>();
        builder.AddScheduledJob<AutoAcceptJob>(AutoAcceptJob.Name, o => o.Reviews.AutoAcceptCron);
        builder.AddScheduledJob<FraudAppealWindowJob>(FraudAppealWindowJob.Name, o => o.Reviews.FraudAppealCron);
        return builder;
    }

    /// <summary>Where a clip's audio is read; an admin's read names its purpose (see <see cref="ReviewRules.ValidateAdminRead"/>).</summary>
    public static string AudioUrl(Guid clipId, AudioPurpose? purpose = null) =>
        purpose is { } p ? $"/api/reviews/clips/{clipId}/audio?purpose={ReviewRules.PurposeCode(p)}" : $"/api/reviews/clips/{clipId}/audio";

    public static RouteGroupBuilder MapReviews(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Reviews")
            .RequireRateLimiting(WebSetup.ApiLimit)
            .DisableAntiforgery();
        var group = api.MapGroup("/reviews").RequireAuthorization();
        group.MapGet("/jobs/{jobId:guid}/queue", Queue).RequireAuthorization(Roles.Requester);
        group.MapPost("/clips/{clipId:guid}/accept", Accept).RequireAuthorization(Roles.Requester);
        group.MapPost("/jobs/{jobId:guid}/accept-played", AcceptPlayed).RequireAuthorization(Roles.Requester);
        group.MapPost("/clips/{clipId:guid}/reject", Reject).RequireAuthorization(Roles.Requester);
        group.MapGet("/clips/{clipId:guid}/audio", Audio);
        group.MapGet("/mine", Mine).RequireAuthorization(Roles.Contributor);
        group.MapPost("/clips/{clipId:guid}/appeal", Appeal).RequireAuthorization(Roles.Contributor);
        group.MapGet("/appeals", Appeals).RequireAuthorization(Roles.Admin);
        group.MapPost("/appeals/{clipId:guid}/decision", Decide).RequireAuthorization(Roles.Admin);

        var validation = api.MapGroup("/validation").RequireAuthorization(Roles.Contributor);
        validation.MapGet("/jobs/{jobId:guid}/next", Next);
        validation.MapPost("/clips/{clipId:guid}/vote", Vote);
        return api;
    }

    private static async Task<Results<Ok<QueueResponse>, ValidationProblem, ProblemHttpResult>> Queue(Guid jobId, double? minSnr, double? minSpeech,
        double? minSeconds, double? maxSeconds, ClaimsPrincipal user, ReviewService reviews, IStringLocalizer<ReviewsText> text, CancellationToken ct)
    {
        if (await reviews.JobOfAsync(Org(user), jobId, ct) is null)
        {
            return JobNotFound(text);
        }
        var filter = new QueueFilter(minSnr, minSpeech, minSeconds, maxSeconds);
        if (ReviewRules.ValidateFilter(filter) is { Count: > 0 } errors)
        {
            return Problems.Validation(errors, text);
        }
        var (waiting, clips) = await reviews.QueueAsync(jobId, 100, ct, filter);
        return TypedResults.Ok(new QueueResponse(jobId, waiting, reviews.AutoAcceptDays, clips
            .Select(c => new QueueClipResponse(c.ClipId, c.PromptText, c.DurationMs, c.Metrics, c.RecordedAt, c.AutoAcceptAt, AudioUrl(c.ClipId))).ToArray()));
    }

    private static async Task<Results<Ok<AcceptedPlayedResponse>, ProblemHttpResult>> AcceptPlayed(Guid jobId, ClaimsPrincipal user, ReviewService reviews,
        IStringLocalizer<ReviewsText> text, CancellationToken ct) =>
        await reviews.JobOfAsync(Org(user), jobId, ct) is null
            ? JobNotFound(text)
            : TypedResults.Ok(new AcceptedPlayedResponse(await reviews.AcceptPlayedAsync(Org(user), user.UserId(), jobId, ct)));

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Accept(Guid clipId, ClaimsPrincipal user, ReviewService reviews,
        IStringLocalizer<ReviewsText> text, CancellationToken ct) =>
        ToResult(await reviews.AcceptAsync(Org(user), user.UserId(), clipId, ct), text);

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Reject(Guid clipId, RejectRequest request, ClaimsPrincipal user,
        ReviewService reviews, IStringLocalizer<ReviewsText> text, CancellationToken ct) =>
        ToResult(await reviews.RejectAsync(Org(user), user.UserId(), clipId, request.Reason, request.Note, ct), text);

    private static async Task<Results<FileContentHttpResult, ValidationProblem, ProblemHttpResult>> Audio(Guid clipId, string? purpose, string? reference,
        ClaimsPrincipal user, ReviewService reviews, PeerValidation peers, IStringLocalizer<ReviewsText> text, CancellationToken ct)
    {
        var access = await reviews.AudioAccessAsync(clipId, user.UserId(), user.OrganisationIdOrNull(), user.IsInRole(Roles.Admin),
            user.IsInRole(Roles.Requester), user.IsInRole(Roles.Contributor), purpose, reference, peers, ct);
        if (access.Errors is { } errors)
        {
            return Problems.Validation(errors, text, "Say why you are listening.");
        }
        var wav = access.Purpose is { } p ? await reviews.ReadAudioAsync(clipId, user.UserId(), ActorKind(user, p), p, ct, access.Reference) : null;
        if (wav is not null && access.Purpose == AudioPurpose.Review)
        {
            await reviews.RecordPlayAsync(clipId, user.UserId(), ct);
        }
        return wav is null
            ? Problems.Problem(StatusCodes.Status404NotFound, text, "Clip not found", "There is no clip with this id that you may listen to. It may have been withdrawn by its speaker.")
            : TypedResults.File(wav, "audio/wav");
    }

    public static string ActorKind(ClaimsPrincipal user, AudioPurpose purpose) => purpose switch
    {
        AudioPurpose.Appeal or AudioPurpose.Dispute or AudioPurpose.LegalRequest => Roles.Admin,
        AudioPurpose.Review => Roles.Requester,
        _ => Roles.Contributor,
    };

    private static async Task<Ok<RejectionResponse[]>> Mine(ClaimsPrincipal user, ReviewService reviews, IStringLocalizer<ReviewsText> text, CancellationToken ct) =>
        TypedResults.Ok((await reviews.RejectionsOfAsync(user.UserId(), ct)).Select(r => RejectionResponse.From(r, text)).ToArray());

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Appeal(Guid clipId, AppealRequest request, ClaimsPrincipal user,
        ReviewService reviews, IStringLocalizer<ReviewsText> text, CancellationToken ct) =>
        ToResult(await reviews.AppealAsync(user.UserId(), clipId, request.Note, ct), text);

    private static async Task<Ok<RejectionResponse[]>> Appeals(ReviewService reviews, IStringLocalizer<ReviewsText> text, CancellationToken ct) =>
        TypedResults.Ok((await reviews.PendingAppealsAsync(ct)).Select(r => RejectionResponse.From(r, text)).ToArray());

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Decide(Guid clipId, DecisionRequest request, ClaimsPrincipal user,
        ReviewService reviews, IStringLocalizer<ReviewsText> text, CancellationToken ct) =>
        ToResult(await reviews.DecideAppealAsync(user.UserId(), clipId, request.Outcome, request.Note, ct), text);

    private static async Task<Results<Ok<ValidationClipResponse>, NoContent, ProblemHttpResult>> Next(Guid jobId, ClaimsPrincipal user, PeerValidation peers,
        IStringLocalizer<ReviewsText> text, CancellationToken ct)
    {
        var job = await peers.JobForValidatorAsync(jobId, user.UserId(), ct);
        if (job is null)
        {
            return Problems.Problem(StatusCodes.Status404NotFound, text, "Nothing to validate",
                "This job does not ask for peer validation, or you have no live consent to it.");
        }
        var next = await peers.NextAsync(job, user.UserId(), ct);
        return next is null
            ? TypedResults.NoContent()
            : TypedResults.Ok(new ValidationClipResponse(next.ClipId, next.PromptText, next.DurationMs, AudioUrl(next.ClipId)));
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Vote(Guid clipId, VoteRequest request, ClaimsPrincipal user,
        PeerValidation peers, IStringLocalizer<ReviewsText> text, CancellationToken ct) =>
        ToResult(await peers.VoteAsync(clipId, user.UserId(), request.Up, ct), text);

    private static Results<NoContent, ValidationProblem, ProblemHttpResult> ToResult(ReviewOutcome outcome, IStringLocalizer<ReviewsText> text) =>
        outcome.Kind switch
        {
            ReviewOutcomeKind.Ok => TypedResults.NoContent(),
            ReviewOutcomeKind.Invalid => Problems.Validation(outcome.Errors!, text),
            ReviewOutcomeKind.Refused => Problems.Problem(StatusCodes.Status400BadRequest, text, "Not possible", outcome.Refusal!),
            _ => Problems.Problem(StatusCodes.Status404NotFound, text, "Clip not found", "There is no clip with this id that you may review."),
        };

    private static ProblemHttpResult JobNotFound(IStringLocalizer<ReviewsText> text) =>
        Problems.Problem(StatusCodes.Status404NotFound, text, "Job not found", "Your organisation has no job with this id.");

    private static Guid Org(ClaimsPrincipal user) =>
        user.OrganisationIdOrNull() ?? throw new InvalidOperationException("The requester policy guarantees an organisation.");
}

/// <summary>Texts of the reviews feature. Translations in ReviewsText.zh-Hans.resx.</summary>
public sealed class ReviewsText;
