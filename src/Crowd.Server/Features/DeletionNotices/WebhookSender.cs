using System.Net.Http.Headers;
using System.Text;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Scheduling;
using Hangfire;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.DeletionNotices;

/// <summary>
/// Delivers deletion notices to webhooks, one Hangfire job per attempt. A delivery is enqueued when the notice commits;
/// each attempt first claims it (its next attempt moved past the timeout), so that two jobs for one delivery never send
/// it twice at once. A 2xx answer marks it delivered; anything else schedules the next attempt with exponential backoff
/// until <see cref="WebhookOptions.MaxAttempts"/>, then marks it failed. Receivers can deduplicate by Crowd-Event-Id.
/// The connection goes only to public addresses (<see cref="WebhookNetwork"/>), and what a delivery records is one of
/// three outcomes, never the text of an error.
/// </summary>
public sealed class WebhookSender(CrowdDb db, IHttpClientFactory http, IDataProtectionProvider protection, BackgroundJobs jobs, TimeProvider clock,
    IOptions<CrowdOptions> options, ILogger<WebhookSender> logger)
{
    public const string HttpClientName = "webhooks";

    /// <summary>How late a due delivery may be before the sweep assumes its job was lost and enqueues another.</summary>
    private static readonly TimeSpan s_sweepGrace = TimeSpan.FromMinutes(2);

    private sealed record Claimed(Guid Id, Guid OrganisationId, string Payload, int Attempts);

    /// <summary>Enqueues the attempt of a delivery written in the open transaction, to run once that commits.</summary>
    public static void EnqueueAfterCommit(BackgroundJobs jobs, Guid deliveryId) =>
        jobs.EnqueueAfterCommit<WebhookSender>(s => s.SendAsync(deliveryId, CancellationToken.None));

    /// <summary>One attempt, if the delivery is due and nobody else holds it. Returns the outcome, or null when there was nothing to do.</summary>
    [JobDisplayName("Webhook delivery {0}")]
    public async Task<DeliveryOutcome?> SendAsync(Guid deliveryId, CancellationToken ct)
    {
        var settings = options.Value.Webhooks;
        var now = clock.GetUtcNow();
        var lease = now.AddSeconds(settings.TimeoutSeconds + 30);
        var claimed = await db.Database.SqlQuery<Claimed>($"""
            UPDATE webhook_deliveries SET next_attempt_at = {lease}
            WHERE id = {deliveryId} AND state = {(int)DeliveryState.Pending} AND next_attempt_at <= {now}
            RETURNING id AS "Id", organisation_id AS "OrganisationId", payload AS "Payload", attempts AS "Attempts"
            """).ToListAsync(ct);
        if (claimed is not [var delivery])
        {
            return null;
        }
        var endpoint = await db.Set<WebhookEndpoint>().AsNoTracking().FirstOrDefaultAsync(w => w.OrganisationId == delivery.OrganisationId, ct);
        if (endpoint is null)
        {
            await db.Set<WebhookDelivery>().Where(d => d.Id == delivery.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.State, DeliveryState.Failed), ct);
            return null;
        }
        var secret = protection.CreateProtector(DeletionNoticeService.SecretPurpose).Unprotect(endpoint.ProtectedSecret);
        var (outcome, status) = await PostAsync(endpoint.Url, secret, delivery, ct);

        var attempts = delivery.Attempts + 1;
        var at = clock.GetUtcNow();
        var delivered = outcome == DeliveryOutcome.Delivered;
        var state = delivered ? DeliveryState.Delivered : attempts >= settings.MaxAttempts ? DeliveryState.Failed : DeliveryState.Pending;
        var next = delivered ? at : at + WebhookSignature.Backoff(attempts, TimeSpan.FromSeconds(settings.RetryBaseSeconds));
        await db.Set<WebhookDelivery>().Where(d => d.Id == delivery.Id).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.Attempts, attempts)
            .SetProperty(d => d.State, state)
            .SetProperty(d => d.LastAttemptAt, at)
            .SetProperty(d => d.LastStatus, status)
            .SetProperty(d => d.LastOutcome, outcome)
            .SetProperty(d => d.DeliveredAt, delivered ? at : null)
            .SetProperty(d => d.NextAttemptAt, next), ct);
        if (state == DeliveryState.Pending)
        {
            logger.LogWarning("Webhook delivery {DeliveryId} attempt {Attempt}: {Outcome} {Status}; next attempt at {Next}",
                delivery.Id, attempts, outcome, status, next);
            jobs.Schedule<WebhookSender>(s => s.SendAsync(delivery.Id, CancellationToken.None), next);
        }
        return outcome;
    }

    /// <summary>Enqueues an attempt for every delivery long overdue: its job was lost (a node died between commit and enqueue).</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var overdue = clock.GetUtcNow() - s_sweepGrace;
        var ids = await db.Set<WebhookDelivery>().AsNoTracking()
            .Where(d => d.State == DeliveryState.Pending && d.NextAttemptAt <= overdue)
            .OrderBy(d => d.NextAttemptAt).Select(d => d.Id).Take(1000).ToListAsync(ct);
        foreach (var id in ids)
        {
            EnqueueAfterCommit(jobs, id);
        }
        return ids.Count;
    }

    private async Task<(DeliveryOutcome Outcome, int? Status)> PostAsync(string url, string secret, Claimed delivery, CancellationToken ct)
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
            return (response.IsSuccessStatusCode ? DeliveryOutcome.Delivered : DeliveryOutcome.Refused, status);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            // The reason stays in the platform's log; the requester learns only that the connection failed.
            logger.LogInformation(e, "Webhook delivery {DeliveryId} could not connect", delivery.Id);
            return (DeliveryOutcome.CouldNotConnect, null);
        }
    }
}

/// <summary>The safety net behind <see cref="WebhookSender"/>: every few minutes, deliveries whose job was lost get one.</summary>
public sealed class WebhookSweepJob(WebhookSender sender) : IScheduledJob
{
    public const string Name = "webhook-deliveries-sweep";

    public Task RunAsync(DateTimeOffset scheduledFor, CancellationToken ct) => sender.SweepAsync(ct);
}
