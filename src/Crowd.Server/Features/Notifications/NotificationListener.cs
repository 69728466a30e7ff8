using System.Threading.Channels;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.SignalR;
using Npgsql;

namespace Crowd.Server.Features.Notifications;

/// <summary>
/// Each node listens on <see cref="Notifications.Channel"/> and sends a fresh <see cref="NotificationFrame"/> to the pages
/// of that person open on it. PostgreSQL delivers a NOTIFY only when its transaction commits, so a page never hears of
/// a notification that was rolled back, and every node hears of every one, whichever node wrote it.
/// </summary>
public sealed class NotificationListener(CrowdDatabase database, NotificationConnections connections, IServiceScopeFactory scopes,
    IHubContext<NotificationsHub> hub, ILogger<NotificationListener> logger) : BackgroundService
{
    private static readonly TimeSpan s_retry = TimeSpan.FromSeconds(2);
    private readonly Channel<Guid> _changed = Channel.CreateBounded<Guid>(new BoundedChannelOptions(10_000)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(ListenAsync(stoppingToken), PushAsync(stoppingToken));

    private async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false, KeepAlive = 30 };
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync(ct);
                connection.Notification += (_, e) =>
                {
                    if (Guid.TryParse(e.Payload, out var userId))
                    {
                        _changed.Writer.TryWrite(userId);
                    }
                };
                await connection.ExecuteTrustedScriptAsync($"LISTEN {BareConnection.Identifier(Notifications.Channel)}", ct);
                while (!ct.IsCancellationRequested)
                {
                    await connection.WaitAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
            {
                logger.LogWarning(e, "Listening for notifications failed; trying again in {Retry}", s_retry);
                try
                {
                    await Task.Delay(s_retry, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task PushAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var userId in _changed.Reader.ReadAllAsync(ct))
            {
                var open = connections.Of(userId);
                if (open.Count == 0)
                {
                    continue;
                }
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var notifications = scope.ServiceProvider.GetRequiredService<Notifications>();
                    foreach (var (connectionId, culture) in open)
                    {
                        var frame = await NotificationsHub.FrameAsync(notifications, userId, culture, ct);
                        await hub.Clients.Client(connectionId).SendAsync(NotificationsHub.FrameMethod, frame, ct);
                    }
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
                {
                    logger.LogWarning(e, "A live notification for {UserId} could not be sent; the page shows it when next loaded", userId);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
