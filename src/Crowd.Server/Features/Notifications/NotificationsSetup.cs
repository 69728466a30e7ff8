using System.Security.Claims;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Notifications;

public sealed record NotificationItem(Guid Id, string Kind, string Title, IReadOnlyList<string> Lines, string Link, DateTimeOffset CreatedAt, bool Read);

public sealed record NotificationList(int Unread, IReadOnlyList<NotificationItem> Items);

public sealed record NotificationSettingDto(string? Kind, bool InApp, bool Email);

public static class NotificationsSetup
{
    public static WebApplicationBuilder AddNotifications(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSignalR();
        services.AddScoped<Notifications>();
        services.AddScoped<NotificationTexts>();
        services.AddSingleton<NotificationConnections>();
        services.AddHostedService<NotificationListener>();
        return builder;
    }

    public static RouteGroupBuilder MapNotifications(this IEndpointRouteBuilder app)
    {
        app.MapHub<NotificationsHub>(NotificationsHub.Path);
        var group = app.MapGroup("/api/notifications").WithTags("Notifications")
            .RequireAuthorization()
            .RequireRateLimiting(WebSetup.ApiLimit)
            .DisableAntiforgery();
        group.MapGet("/", List);
        group.MapPost("/{id:guid}/read", MarkRead);
        group.MapPost("/read", MarkAllRead);
        group.MapGet("/settings", Settings);
        group.MapPut("/settings", SaveSettings);
        return group;
    }

    private static async Task<Ok<NotificationList>> List(ClaimsPrincipal user, Notifications notifications, CancellationToken ct)
    {
        var me = user.UserId();
        var items = await notifications.ListAsync(me, ct);
        return TypedResults.Ok(new NotificationList(await notifications.UnreadCountAsync(me, ct),
            items.Select(n => new NotificationItem(n.Id, n.Kind.Code(), n.Text.Title, n.Text.Lines, n.Text.Link, n.CreatedAt, n.Read)).ToList()));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> MarkRead(Guid id, ClaimsPrincipal user, Notifications notifications,
        IStringLocalizer<NotificationsText> text, CancellationToken ct) =>
        await notifications.MarkReadAsync(user.UserId(), id, ct)
            ? TypedResults.NoContent()
            : Problems.Problem(StatusCodes.Status404NotFound, text, "Notification not found", "You have no notification with this id.");

    private static async Task<NoContent> MarkAllRead(ClaimsPrincipal user, Notifications notifications, CancellationToken ct)
    {
        await notifications.MarkReadAsync(user.UserId(), null, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<IEnumerable<NotificationSettingDto>>> Settings(ClaimsPrincipal user, Notifications notifications, CancellationToken ct) =>
        TypedResults.Ok((await notifications.SettingsAsync(user.UserId(), RolesOf(user), ct)).Select(s => new NotificationSettingDto(s.Kind.Code(), s.InApp, s.Email)));

    private static async Task<Results<NoContent, ValidationProblem>> SaveSettings(NotificationSettingDto[]? settings, ClaimsPrincipal user,
        Notifications notifications, IStringLocalizer<NotificationsText> text, CancellationToken ct)
    {
        var (parsed, errors) = NotificationRules.Parse(settings, RolesOf(user));
        if (errors.Count > 0)
        {
            return Problems.Validation(errors, text);
        }
        await notifications.SaveSettingsAsync(user.UserId(), parsed, ct);
        return TypedResults.NoContent();
    }

    public static IReadOnlyList<string> RolesOf(ClaimsPrincipal user) => Roles.All.Where(user.IsInRole).ToList();
}

/// <summary>What a change of notification settings must satisfy. Pure.</summary>
public static class NotificationRules
{
    public static (List<NotificationSetting> Settings, List<FieldError> Errors) Parse(IReadOnlyList<NotificationSettingDto>? settings, IReadOnlyList<string> roles)
    {
        var errors = new List<FieldError>();
        var parsed = new List<NotificationSetting>();
        if (settings is null || settings.Count == 0)
        {
            errors.Add(new("settings", "Send the kinds of notification to change, each with inApp and email."));
            return (parsed, errors);
        }
        for (var i = 0; i < settings.Count; i++)
        {
            var kind = NotificationKinds.FromCode(settings[i].Kind?.Trim());
            if (kind is null)
            {
                errors.Add(new($"settings[{i}].kind", "There is no kind of notification called \"{0}\". The kinds are listed by GET /api/notifications/settings.", settings[i].Kind ?? ""));
            }
            else if (!roles.Contains(kind.Value.Audience()))
            {
                errors.Add(new($"settings[{i}].kind", "Notifications of the kind \"{0}\" are not for your account.", settings[i].Kind!));
            }
            else if (parsed.Any(p => p.Kind == kind))
            {
                errors.Add(new($"settings[{i}].kind", "The kind \"{0}\" is listed twice.", settings[i].Kind!));
            }
            else
            {
                parsed.Add(new NotificationSetting(kind.Value, settings[i].InApp, settings[i].Email));
            }
        }
        return (parsed, errors);
    }
}
