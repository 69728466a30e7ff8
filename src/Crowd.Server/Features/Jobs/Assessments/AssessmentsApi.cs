using System.Security.Claims;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Jobs.Assessments;

public sealed record AssessmentResponse(
    Guid Id, Guid JobId, int Version, string Status, bool PurposeSpeechRecognition, bool PurposeVoiceCloning, AssessmentAnswers Answers,
    DateTimeOffset SubmittedAt, DateTimeOffset? ReviewedAt, string? ReviewReasons, DateTimeOffset? KeepUntil)
{
    public static AssessmentResponse From(ImpactAssessment a) => new(a.Id, a.JobId, a.Version, StatusName(a.Status), a.PurposeSpeechRecognition,
        a.PurposeVoiceCloning, a.Answers, a.SubmittedAt, a.ReviewedAt, a.ReviewReasons, a.KeepUntil);

    public static string StatusName(AssessmentStatus status) => status switch
    {
        AssessmentStatus.Waiting => "waiting",
        AssessmentStatus.Approved => "approved",
        _ => "sent-back",
    };
}

public static class AssessmentsApi
{
    public static RouteGroupBuilder MapAssessments(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Impact assessments")
            .RequireRateLimiting(WebSetup.ApiLimit)
            .DisableAntiforgery();
        var jobs = api.MapGroup("/jobs/{jobId:guid}/assessment").RequireAuthorization(Roles.Requester);
        jobs.MapGet("/", History);
        jobs.MapPost("/", Submit);

        var admin = api.MapGroup("/admin/assessments").RequireAuthorization(Roles.Admin);
        admin.MapGet("/", async (ImpactAssessments assessments, CancellationToken ct) =>
            TypedResults.Ok((await assessments.WaitingAsync(ct)).Select(AssessmentResponse.From).ToArray()));
        admin.MapPost("/{assessmentId:guid}/review", Review);
        return api;
    }

    private static async Task<Ok<AssessmentResponse[]>> History(Guid jobId, ClaimsPrincipal user, ImpactAssessments assessments, CancellationToken ct) =>
        TypedResults.Ok((await assessments.HistoryAsync(Org(user), jobId, ct)).Select(AssessmentResponse.From).ToArray());

    private static async Task<Results<Created<AssessmentResponse>, ValidationProblem, ProblemHttpResult>> Submit(
        Guid jobId, AssessmentAnswers answers, ClaimsPrincipal user, ImpactAssessments assessments, IStringLocalizer<AssessmentsText> text, CancellationToken ct)
    {
        var outcome = await assessments.SubmitAsync(Org(user), user.UserId(), jobId, answers, ct);
        return outcome.Kind switch
        {
            AssessmentOutcomeKind.Ok => TypedResults.Created($"/api/jobs/{jobId}/assessment", AssessmentResponse.From(outcome.Assessment!)),
            AssessmentOutcomeKind.Invalid => Problems.Validation(outcome.Errors!, text, "The impact assessment needs attention."),
            AssessmentOutcomeKind.JobClosed => Problems.Problem(StatusCodes.Status409Conflict, text, "Job closed",
                "This job is closed: its assessments are kept as they are."),
            _ => Problems.Problem(StatusCodes.Status404NotFound, text, "Job not found", "No job with this id belongs to your organisation."),
        };
    }

    private static async Task<Results<Ok<AssessmentResponse>, ValidationProblem, ProblemHttpResult>> Review(
        Guid assessmentId, AssessmentReviewRequest review, ClaimsPrincipal user, ImpactAssessments assessments, IStringLocalizer<AssessmentsText> text,
        CancellationToken ct)
    {
        var outcome = await assessments.ReviewAsync(user.UserId(), assessmentId, review, ct);
        return outcome.Kind switch
        {
            AssessmentOutcomeKind.Ok => TypedResults.Ok(AssessmentResponse.From(outcome.Assessment!)),
            AssessmentOutcomeKind.Invalid => Problems.Validation(outcome.Errors!, text),
            AssessmentOutcomeKind.AlreadyReviewed => Problems.Problem(StatusCodes.Status409Conflict, text, "Already reviewed",
                "This version was already reviewed. The requester submits a new version to change it."),
            _ => Problems.Problem(StatusCodes.Status404NotFound, text, "Assessment not found", "No impact assessment has this id."),
        };
    }

    private static Guid Org(ClaimsPrincipal user) =>
        user.OrganisationIdOrNull() ?? throw new InvalidOperationException("The requester policy guarantees an organisation.");
}

/// <summary>Texts of impact assessments. Translations in AssessmentsText.zh-Hans.resx.</summary>
public sealed class AssessmentsText;
