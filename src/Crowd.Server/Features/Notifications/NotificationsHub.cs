using Crowd.Server.Features.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.SignalR;

namespace Crowd.Server.Features.Notifications;

/// <summary>What an open page hears: the unread count, and the newest unread notification in the page's language.</summary>
public sealed record NotificationFrame(int Unread, Guid? Id, string? Kind, string? Title, string? Link);

/// <summary>
/// Pages of a signed-in person listen here for their notifications. The server only sends ("notification" frames); the
/// same-origin rule and the sign-in cookie guard the handshake like every hub's.
/// </summary>
[Authorize]
public sealed class NotificationsHub(NotificationConnections connections, Notifications notifications) : Hub
{
    public const string Path = "/hubs/notifications";
    public const string FrameMethod = "notification";

    public override async Task OnConnectedAsync()
    {
        var culture = Context.GetHttpContext()?.Features.Get<IRequestCultureFeature>()?.RequestCulture.UICulture.Name ?? "en";
        var userId = Context.User!.UserId();
        connections.Add(userId, Context.ConnectionId, culture);
        // A page that reconnects may have missed frames: it gets the state as it is now.
        await Clients.Caller.SendAsync(FrameMethod, await FrameAsync(notifications, userId, culture, Context.ConnectionAborted));
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        connections.Remove(Context.User!.UserId(), Context.ConnectionId);
        return Task.CompletedTask;
    }

    public static async Task<NotificationFrame> FrameAsync(Notifications notifications, Guid userId, string culture, CancellationToken ct)
    {
        using (Infrastructure.Web.Languages.InCulture(culture))
        {
            var unread = await notifications.UnreadCountAsync(userId, ct);
            var latest = unread == 0 ? null : await notifications.LatestUnreadAsync(userId, ct);
            return new NotificationFrame(unread, latest?.Id, latest?.Kind.Code(), latest?.Text.Title, latest is null ? null : "/Notifications/Open/" + latest.Id);
        }
    }
}

/// <summary>The notification pages open on this node: person → connection → the page's language.</summary>
public sealed class NotificationConnections
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Dictionary<string, string>> _open = [];

    public void Add(Guid userId, string connectionId, string culture)
    {
        lock (_lock)
        {
            if (!_open.TryGetValue(userId, out var connections))
            {
                _open[userId] = connections = [];
            }
            connections[connectionId] = culture;
        }
    }

    public void Remove(Guid userId, string connectionId)
    {
        lock (_lock)
        {
            if (_open.TryGetValue(userId, out var connections) && connections.Remove(connectionId) && connections.Count == 0)
            {
                _open.Remove(userId);
            }
        }
    }

    /// <summary>The person's open connections on this node with their languages; empty when none.</summary>
    public IReadOnlyList<(string ConnectionId, string Culture)> Of(Guid userId)
    {
        lock (_lock)
        {
            return _open.TryGetValue(userId, out var connections) ? connections.Select(c => (c.Key, c.Value)).ToList() : [];
        }
    }
}
