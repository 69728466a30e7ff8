using System.Security.Claims;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.DeletionNotices;

public sealed record WebhookRequest(string? Url);

public sealed record WebhookCreated(string Url, string Secret, string SignatureHeader);

public sealed record Acknowledged(int Count);

/// <summary>
/// A requester organisation's deletion notices (<c>/api/org/deletion-notices</c>) and webhook (<c>/api/org/webhook</c>);
/// the admins' list of notices nobody acknowledged yet (<c>/api/admin/deletion-notices</c>).
/// </summary>
public static class DeletionNoticesApi
{
    public static IEndpointRouteBuilder MapDeletionNotices(this IEndpointRouteBuilder app)
    {
        var org = app.MapGroup("/api/org").WithTags("Deletion notices")
            .RequireAuthorization(Roles.Requester)
            .RequireRateLimiting(WebSetup.ApiLimit)
            .DisableAntiforgery();
        org.MapGet("/deletion-notices", async (bool? open, ClaimsPrincipal user, DeletionNoticeService notices, IStringLocalizer<DeletionNoticesText> text,
                CancellationToken ct) => user.OrganisationIdOrNull() is { } id
                ? (Results<Ok<IReadOnlyList<NoticeView>>, ProblemHttpResult>)TypedResults.Ok(await notices.ListAsync(id, open == true, ct))
                : NoOrganisation(text));
        org.MapPost("/deletion-notices/{noticeId:guid}/acknowledge", Acknowledge);
        org.MapPost("/deletion-notices/acknowledge-all", async (ClaimsPrincipal user, DeletionNoticeService notices,
                IStringLocalizer<DeletionNoticesText> text, CancellationToken ct) => user.OrganisationIdOrNull() is { } id
                ? (Results<Ok<Acknowledged>, ProblemHttpResult>)TypedResults.Ok(new Acknowledged(await notices.AcknowledgeAsync(id, user.UserId(), null, ct)))
                : NoOrganisation(text));
        org.MapGet("/webhook", GetWebhook);
        org.MapPut("/webhook", SetWebhook);
        org.MapDelete("/webhook", async (ClaimsPrincipal user, DeletionNoticeService notices, CancellationToken ct) =>
        {
            if (user.OrganisationIdOrNull() is { } id)
            {
                await notices.RemoveWebhookAsync(id, ct);
            }
            return TypedResults.NoContent();
        });
        org.MapGet("/webhook/deliveries", async (ClaimsPrincipal user, DeletionNoticeService notices, IStringLocalizer<DeletionNoticesText> text,
                CancellationToken ct) =>
            TypedResults.Ok(user.OrganisationIdOrNull() is { } id ? await notices.DeliveriesAsync(id, text, ct) : []));

        app.MapGroup("/api/admin/deletion-notices").WithTags("Deletion notices")
            .RequireAuthorization(Roles.Admin)
            .RequireRateLimiting(WebSetup.ApiLimit)
            .MapGet("/open", async (CrowdDb db, TimeProvider clock, CancellationToken ct) =>
                TypedResults.Ok(await DeletionNoticeService.OpenForAdminsAsync(db, clock.GetUtcNow(), ct)));
        return app;
    }

    private static async Task<Results<Ok<Acknowledged>, ProblemHttpResult>> Acknowledge(Guid noticeId, ClaimsPrincipal user,
        DeletionNoticeService notices, IStringLocalizer<DeletionNoticesText> text, CancellationToken ct)
    {
        if (user.OrganisationIdOrNull() is not { } id)
        {
            return NoOrganisation(text);
        }
        if (!await notices.ExistsAsync(id, noticeId, ct))
        {
            return Problems.Problem(StatusCodes.Status404NotFound, text, "Notice not found", "Your organisation has no deletion notice with this id.");
        }
        return TypedResults.Ok(new Acknowledged(await notices.AcknowledgeAsync(id, user.UserId(), noticeId, ct)));
    }

    private static async Task<Results<Ok<WebhookView>, ProblemHttpResult>> GetWebhook(ClaimsPrincipal user, DeletionNoticeService notices,
        IStringLocalizer<DeletionNoticesText> text, CancellationToken ct) =>
        user.OrganisationIdOrNull() is { } id && await notices.WebhookAsync(id, ct) is { } webhook
            ? TypedResults.Ok(webhook)
            : Problems.Problem(StatusCodes.Status404NotFound, text, "No webhook", "Your organisation has not configured a webhook; notices are shown in the app only.");

    private static async Task<Results<Ok<WebhookCreated>, ValidationProblem, ProblemHttpResult>> SetWebhook(WebhookRequest request,
        ClaimsPrincipal user, DeletionNoticeService notices, IStringLocalizer<DeletionNoticesText> text, CancellationToken ct)
    {
        if (user.OrganisationIdOrNull() is not { } id)
        {
            return NoOrganisation(text);
        }
        var (errors, secret) = await notices.SetWebhookAsync(id, user.UserId(), request.Url, ct);
        return errors.Count > 0
            ? Problems.Validation(errors, text)
            : TypedResults.Ok(new WebhookCreated(request.Url!.Trim(), secret!, WebhookSignature.Header));
    }

    private static ProblemHttpResult NoOrganisation(IStringLocalizer text) =>
        Problems.Problem(StatusCodes.Status403Forbidden, text, "No organisation", "Your account does not belong to a requester organisation.");
}

/// <summary>Texts of deletion notices and webhooks. Translations in DeletionNoticesText.zh-Hans.resx.</summary>
public sealed class DeletionNoticesText;
