using System.Net.Http.Headers;
using System.Text;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.DeletionNotices;

/// <summary>
/// Sends due webhook deliveries. Each is leased first (its next attempt moved past the timeout), so that several nodes
/// never send the same one at once; a 2xx answer marks it delivered, anything else schedules a retry with exponential
/// backoff until <see cref="WebhookOptions.MaxAttempts"/>, then marks it failed. Receivers can deduplicate by the
/// Crowd-Event-Id header.
/// </summary>
public sealed class WebhookSender(CrowdDb db, IHttpClientFactory http, IDataProtectionProvider protection, TimeProvider clock,
    IOptions<CrowdOptions> options, ILogger<WebhookSender> logger)
{
    public const string HttpClientName = "webhooks";

    private sealed record Leased(Guid Id, Guid OrganisationId, string Payload, int Attempts);

    public async Task<int> SendDueAsync(CancellationToken ct)
    {
        var settings = options.Value.Webhooks;
        var now = clock.GetUtcNow();
        var lease = now.AddSeconds(settings.TimeoutSeconds + 30);
        var due = await db.Database.SqlQuery<Leased>($"""
            UPDATE webhook_deliveries SET next_attempt_at = {lease}
            WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 0 AND next_attempt_at <= {now}
                         ORDER BY next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED)
            RETURNING id AS "Id", organisation_id AS "OrganisationId", payload AS "Payload", attempts AS "Attempts"
            """).ToListAsync(ct);
        var protector = protection.CreateProtector(DeletionNoticeService.SecretPurpose);
        var delivered = 0;
        foreach (var delivery in due)
        {
            var endpoint = await db.Set<WebhookEndpoint>().AsNoTracking().FirstOrDefaultAsync(w => w.OrganisationId == delivery.OrganisationId, ct);
            int? status = null;
            string? error = null;
            if (endpoint is null)
            {
                error = "No webhook is configured any more.";
            }
            else
            {
                (status, error) = await PostAsync(endpoint.Url, protector.Unprotect(endpoint.ProtectedSecret), delivery, ct);
            }
            var attempts = delivery.Attempts + 1;
            var at = clock.GetUtcNow();
            var ok = error is null;
            var state = ok ? DeliveryState.Delivered : attempts >= settings.MaxAttempts || endpoint is null ? DeliveryState.Failed : DeliveryState.Pending;
            var next = at + WebhookSignature.Backoff(attempts, TimeSpan.FromSeconds(settings.RetryBaseSeconds));
            await db.Set<WebhookDelivery>().Where(d => d.Id == delivery.Id).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Attempts, attempts)
                .SetProperty(d => d.State, state)
                .SetProperty(d => d.LastAttemptAt, at)
                .SetProperty(d => d.LastStatus, status)
                .SetProperty(d => d.LastError, error)
                .SetProperty(d => d.DeliveredAt, ok ? at : null)
                .SetProperty(d => d.NextAttemptAt, ok ? at : next), ct);
            if (ok)
            {
                delivered++;
            }
            else
            {
                logger.LogWarning("Webhook delivery {DeliveryId} attempt {Attempt} failed: {Error}", delivery.Id, attempts, error);
            }
        }
        return delivered;
    }

    private async Task<(int? Status, string? Error)> PostAsync(string url, string secret, Leased delivery, CancellationToken ct)
    {
        var body = Encoding.UTF8.GetBytes(delivery.Payload);
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(WebhookSignature.Header, WebhookSignature.Sign(secret, clock.GetUtcNow().ToUnixTimeSeconds(), body));
        request.Headers.TryAddWithoutValidation("Crowd-Event-Id", delivery.Id.ToString());
        try
        {
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode ? (status, null) : (status, $"The webhook answered {status}.");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            var message = e.Message.Length > 400 ? e.Message[..400] : e.Message;
            return (null, "Not reached: " + message);
        }
    }
}

/// <summary>Polls for due deliveries on every node; the lease keeps each delivery to one sender.</summary>
public sealed class WebhookWorker(IServiceScopeFactory scopes, IOptions<CrowdOptions> options, ILogger<WebhookWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromMilliseconds(Math.Max(50, options.Value.Webhooks.PollMilliseconds));
        using var timer = new PeriodicTimer(period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<WebhookSender>().SendDueAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Sending webhook deliveries failed; trying again in {Period}", period);
            }
        }
    }
}
