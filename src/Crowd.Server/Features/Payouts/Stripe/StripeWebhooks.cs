using System.Text.Json;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Payouts.Stripe;

public enum WebhookOutcome
{
    Handled,
    /// <summary>This event id was processed before: nothing happens twice.</summary>
    Replayed,
    /// <summary>A well-signed event of a type the platform does not act on; recorded and acknowledged.</summary>
    Ignored,
    BadSignature,
    BadPayload,
}

/// <summary>Verifies and applies Stripe webhook events, each once by event id, in one transaction with its effects.</summary>
public sealed class StripeWebhooks(CrowdDb db, IOptions<CrowdOptions> options, TimeProvider time, Escrow.EscrowService escrow, ILogger<StripeWebhooks> logger)
{
    public static readonly string[] HandledTypes = ["transfer.created", "transfer.reversed", "account.updated", "payout.paid", "payout.failed", "payment_intent.succeeded"];

    public async Task<WebhookOutcome> ReceiveAsync(string? signatureHeader, byte[] body, CancellationToken ct = default)
    {
        var stripe = options.Value.Stripe;
        var check = StripeSignature.Verify(signatureHeader, body, stripe.WebhookSecrets, time.GetUtcNow(), TimeSpan.FromSeconds(stripe.WebhookToleranceSeconds));
        if (check != SignatureCheck.Valid)
        {
            logger.LogWarning("Stripe webhook refused: signature {Check}", check);
            return WebhookOutcome.BadSignature;
        }
        string id, type;
        JsonElement data;
        string? account;
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            id = root.GetProperty("id").GetString() ?? throw new FormatException();
            type = root.GetProperty("type").GetString() ?? throw new FormatException();
            data = root.GetProperty("data").GetProperty("object").Clone();
            account = root.TryGetProperty("account", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
        {
            logger.LogWarning("Stripe webhook refused: the body is not a Stripe event ({Message})", e.Message);
            return WebhookOutcome.BadPayload;
        }
        if (id.Length > 100 || type.Length > 100)
        {
            return WebhookOutcome.BadPayload;
        }

        var known = HandledTypes.Contains(type);
        return await db.InTransactionAsync(async () =>
        {
            var first = await db.ExecuteAsync("INSERT INTO stripe_events (id, type, handled, received_at) VALUES (@id, @type, @handled, @now) ON CONFLICT (id) DO NOTHING",
                ct, DbCommands.P("id", id), DbCommands.P("type", type), DbCommands.P("handled", known), DbCommands.P("now", time.GetUtcNow()));
            if (first == 0)
            {
                logger.LogWarning("Stripe event {EventId} ({Type}) was processed before; the replay is ignored", id, type);
                return WebhookOutcome.Replayed;
            }
            if (!known)
            {
                logger.LogWarning("Stripe event {EventId} of unhandled type {Type} recorded and ignored", id, type);
                return WebhookOutcome.Ignored;
            }
            await ApplyAsync(id, type, data, account, ct);
            return WebhookOutcome.Handled;
        }, ct);
    }

    private async Task ApplyAsync(string eventId, string type, JsonElement data, string? connectedAccount, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        switch (type)
        {
            case "transfer.created":
            case "transfer.reversed":
            {
                var transferId = Text(data, "id");
                if (!Guid.TryParse(data.TryGetProperty("metadata", out var metadata) ? Text(metadata, "payout_id") : null, out var payoutId))
                {
                    logger.LogWarning("Stripe event {EventId}: transfer {TransferId} carries no payout id; nothing to do", eventId, transferId);
                    return;
                }
                if (type == "transfer.created")
                {
                    var moved = await PayoutTransitions.SettleAsync(db, payoutId, transferId, now, ct);
                    logger.LogInformation("Stripe transfer {TransferId} created: payout {PayoutId} {Result}", transferId, payoutId, moved == 1 ? "settled" : "was already settled or failed");
                }
                else
                {
                    var moved = await PayoutTransitions.ReverseAsync(db, payoutId, "Stripe transfer reversed.", now, ct)
                        + await PayoutTransitions.FailAsync(db, payoutId, "Stripe transfer reversed.", now, ct);
                    logger.LogWarning("Stripe transfer {TransferId} reversed: payout {PayoutId} {Result}", transferId, payoutId, moved == 1 ? "failed, money back to payable" : "was already failed");
                }
                return;
            }
            case "account.updated":
            {
                var accountId = Text(data, "id");
                var onboarded = Bool(data, "details_submitted") && Bool(data, "payouts_enabled");
                var changed = await db.Set<PayoutAccount>().Where(a => a.StripeAccountId == accountId)
                    .ExecuteUpdateAsync(s => s.SetProperty(a => a.Onboarded, onboarded).SetProperty(a => a.UpdatedAt, now), ct);
                logger.LogInformation("Stripe account {AccountId} updated: onboarded {Onboarded} ({Rows} payout methods)", accountId, onboarded, changed);
                return;
            }
            case "payment_intent.succeeded":
            {
                // Stripe-mode escrow funding: the PaymentIntent id makes a redelivered event (under a new event id) count once.
                var intent = Text(data, "id");
                var received = data.TryGetProperty("amount_received", out var a) && a.TryGetInt64(out var v) ? v : 0;
                var currency = Text(data, "currency")?.ToUpperInvariant() ?? "";
                if (intent is null || !Guid.TryParse(data.TryGetProperty("metadata", out var md) ? Text(md, "job_id") : null, out var jobId))
                {
                    logger.LogWarning("Stripe event {EventId}: PaymentIntent {Intent} names no job; nothing funded", eventId, intent);
                    return;
                }
                var result = await escrow.RecordStripePaymentAsync(jobId, new Infrastructure.Money.Money(received, currency), intent, ct);
                logger.LogInformation("Stripe PaymentIntent {Intent} for job {JobId}: {Outcome}", intent, jobId, result.Outcome);
                return;
            }
            default:
                // payout.paid / payout.failed: the connected account's own payout to its bank. The money left the platform
                // with the transfer, so the ledger does not move; a failure is the contributor's to fix with Stripe.
                logger.Log(type == "payout.failed" ? LogLevel.Warning : LogLevel.Information,
                    "Stripe {Type} for connected account {AccountId}: payout {StripePayoutId} {Status}", type, connectedAccount, Text(data, "id"), Text(data, "status"));
                return;
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Bool(JsonElement element, string name) =>
        element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
}
