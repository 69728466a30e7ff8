using System.Security.Claims;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Withdrawal;

public sealed record WithdrawalResponse(string Outcome, int ConsentsWithdrawn, int ClipsWithdrawn, int DeletionNoticesSent, DateTimeOffset At,
    string PayEarned);

/// <summary>The contributor's own data: <c>/api/me/data</c>, and withdrawal of a clip or of a whole job.</summary>
public static class WithdrawalApi
{
    public static RouteGroupBuilder MapWithdrawal(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/me").WithTags("My data")
            .RequireAuthorization(Roles.Contributor)
            .RequireRateLimiting(WebSetup.ApiLimit)
            .DisableAntiforgery();
        group.MapGet("/data", async (ClaimsPrincipal user, Infrastructure.Database.CrowdDb db, CancellationToken ct) =>
            TypedResults.Ok(await MyData.ForContributorAsync(db, user.UserId(), ct)));
        group.MapPost("/clips/{clipId:guid}/withdraw", WithdrawClip);
        group.MapPost("/jobs/{jobId:guid}/withdraw", WithdrawJob);
        return group;
    }

    private static async Task<Results<Ok<WithdrawalResponse>, ProblemHttpResult>> WithdrawClip(Guid clipId, ClaimsPrincipal user,
        WithdrawalService withdrawals, IStringLocalizer<WithdrawalText> text, CancellationToken ct)
    {
        var result = await withdrawals.WithdrawClipAsync(user.UserId(), clipId, ct);
        return result.Outcome == WithdrawalOutcome.NotFound
            ? Problems.Problem(StatusCodes.Status404NotFound, text, "Clip not found",
                "None of your clips has this id, so nothing was withdrawn. You can only withdraw your own recordings; see them under My data.")
            : TypedResults.Ok(Response(result));
    }

    private static async Task<Results<Ok<WithdrawalResponse>, ProblemHttpResult>> WithdrawJob(Guid jobId, ClaimsPrincipal user,
        WithdrawalService withdrawals, IStringLocalizer<WithdrawalText> text, CancellationToken ct)
    {
        var result = await withdrawals.WithdrawJobAsync(user.UserId(), jobId, ct);
        return result.Outcome == WithdrawalOutcome.NotFound
            ? Problems.Problem(StatusCodes.Status404NotFound, text, "Job not found",
                "You have no consent and no recordings for this job, so there is nothing to withdraw.")
            : TypedResults.Ok(Response(result));
    }

    private static WithdrawalResponse Response(WithdrawalResult r) =>
        new(r.Outcome == WithdrawalOutcome.Withdrawn ? "withdrawn" : "already_withdrawn", r.ConsentsWithdrawn, r.ClipsWithdrawn, r.NoticesSent, r.At,
            "kept");
}

/// <summary>Texts of My data and withdrawal. Translations in WithdrawalText.zh-Hans.resx.</summary>
public sealed class WithdrawalText;
