using System.Security.Claims;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Scheduling;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

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
    /// <summary>Deletion notices and the webhook sender that delivers them.</summary>
    public static WebApplicationBuilder AddDeletionNotices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddScoped<DeletionNoticeWriter>();
        services.AddScoped<DeletionNoticeService>();
        services.AddScoped<DeletionNoticeReminders>();
        services.AddScoped<WebhookSender>();
        services.AddSingleton<WebhookNetwork>();
        services.AddHttpClient(WebhookSender.HttpClientName, (sp, http) =>
                http.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<CrowdOptions>>().Value.Webhooks.TimeoutSeconds))
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                // A webhook answers where it was configured; following a redirect could send notices somewhere nobody chose.
                AllowAutoRedirect = false,
                // Through a proxy the connection would go to the proxy, and the address checks with it.
                UseProxy = false,
                ConnectCallback = sp.GetRequiredService<WebhookNetwork>().ConnectAsync,
            });
        builder.AddScheduledJob<WebhookSweepJob>(WebhookSweepJob.Name, _ => "*/5 * * * *");
        builder.AddScheduledJob<DeletionNoticeRemindersJob>(DeletionNoticeRemindersJob.Name, _ => DeletionNoticeRemindersJob.Cron);
        return builder;
    }

    public static RouteGroupBuilder MapDeletionNotices(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Deletion notices").RequireRateLimiting(WebSetup.ApiLimit);
        var org = api.MapGroup("/org").RequireAuthorization(Roles.Requester).DisableAntiforgery();
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

        api.MapGroup("/admin/deletion-notices").RequireAuthorization(Roles.Admin)
            .MapGet("/open", async (CrowdDb db, TimeProvider clock, CancellationToken ct) =>
                TypedResults.Ok(await DeletionNoticeService.OpenForAdminsAsync(db, clock.GetUtcNow(), ct)));
        return api;
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
