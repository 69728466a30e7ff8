using System.Text;
using System.Text.Json;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stripe;
using Stripe.Checkout;

namespace Crowd.Server.Features.Payouts.Stripe;

public enum WebhookOutcome
{
    Handled,
    /// <summary>This event id was processed before: nothing happens twice.</summary>
    Replayed,
    /// <summary>A well-signed event of a type the platform does not act on; recorded and acknowledged.</summary>
    Ignored,
    /// <summary>No configured secret signs it within the tolerance, or it is rendered for another API version.</summary>
    Refused,
    BadPayload,
}

/// <summary>Verifies and applies Stripe webhook events, each once by event id, in one transaction with its effects.</summary>
public sealed class StripeWebhooks(CrowdDb db, IOptions<CrowdOptions> options, TimeProvider time, EscrowService escrow, FundedJobs funded,
    PayoutNotices notices, ILogger<StripeWebhooks> logger)
{
    public static readonly string[] HandledTypes =
    [
        "transfer.created", "transfer.reversed", "account.updated", "payout.paid", "payout.failed", "payment_intent.succeeded",
        "checkout.session.completed", "checkout.session.async_payment_succeeded",
    ];

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public async Task<WebhookOutcome> ReceiveAsync(string? signatureHeader, byte[] body, CancellationToken ct = default)
    {
        string json;
        try
        {
            json = s_strictUtf8.GetString(body);
        }
        catch (DecoderFallbackException)
        {
            logger.LogWarning("Stripe webhook refused: the body is not UTF-8");
            return WebhookOutcome.BadPayload;
        }
        Event stripeEvent;
        try
        {
            if (Verify(signatureHeader, json) is not { } verified)
            {
                return WebhookOutcome.Refused;
            }
            stripeEvent = verified;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or FormatException or OverflowException)
        {
            logger.LogWarning("Stripe webhook refused: the body is not a Stripe event ({Message})", e.Message);
            return WebhookOutcome.BadPayload;
        }
        var (id, type) = (stripeEvent.Id ?? "", stripeEvent.Type ?? "");
        if (id.Length is 0 or > 100 || type.Length is 0 or > 100)
        {
            return WebhookOutcome.BadPayload;
        }

        var known = HandledTypes.Contains(type);
        return await db.InTransactionAsync(async () =>
        {
            var first = await db.Database.ExecuteSqlAsync(
                $"INSERT INTO stripe_events (id, type, handled, received_at) VALUES ({id}, {type}, {known}, {time.GetUtcNow()}) ON CONFLICT (id) DO NOTHING", ct);
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
            await ApplyAsync(stripeEvent, ct);
            return WebhookOutcome.Handled;
        }, ct);
    }

    /// <summary>
    /// The event, when one configured secret (several while a secret is rotated) signs it within the tolerance; any of
    /// the header's v1 signatures may match. Null when none does.
    /// </summary>
    private Event? Verify(string? signatureHeader, string json)
    {
        var stripe = options.Value.Stripe;
        if (string.IsNullOrWhiteSpace(signatureHeader))
        {
            logger.LogWarning("Stripe webhook refused: no Stripe-Signature header");
            return null;
        }
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        string? reason = "no webhook secret is configured (Crowd:Stripe:WebhookSecrets)";
        foreach (var secret in stripe.WebhookSecrets.Where(s => !string.IsNullOrWhiteSpace(s)))
        {
            try
            {
                // Money moves on fields read through Stripe.net's typed objects, which follow the API version it pins. An
                // event rendered for another release train could be read wrongly, so it is refused (400) rather than
                // half-understood; Stripe keeps redelivering it until the endpoint's version is set to the pinned one.
                return EventUtility.ConstructEvent(json, signatureHeader, secret, stripe.WebhookToleranceSeconds, now, throwOnApiVersionMismatch: true);
            }
            catch (StripeException e)
            {
                reason = e.Message;
            }
        }
        logger.LogWarning("Stripe webhook refused: {Reason}", reason);
        return null;
    }

    private async Task ApplyAsync(Event stripeEvent, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var (eventId, type) = (stripeEvent.Id, stripeEvent.Type);
        switch (stripeEvent.Data?.Object)
        {
            case Transfer transfer when type is "transfer.created" or "transfer.reversed":
            {
                if (!Guid.TryParse(transfer.Metadata?.GetValueOrDefault("payout_id"), out var payoutId))
                {
                    logger.LogWarning("Stripe event {EventId}: transfer {TransferId} carries no payout id; nothing to do", eventId, transfer.Id);
                    return;
                }
                if (type == "transfer.created")
                {
                    var moved = await PayoutTransitions.SettleAsync(db, payoutId, transfer.Id, now, ct);
                    await notices.PaidAsync(payoutId, ct);
                    logger.LogInformation("Stripe transfer {TransferId} created: payout {PayoutId} {Result}", transfer.Id, payoutId, moved == 1 ? "settled" : "was already settled or failed");
                }
                else
                {
                    var moved = await PayoutTransitions.ReverseAsync(db, payoutId, "Stripe transfer reversed.", now, ct)
                        + await PayoutTransitions.FailAsync(db, payoutId, "Stripe transfer reversed.", now, ct);
                    logger.LogWarning("Stripe transfer {TransferId} reversed: payout {PayoutId} {Result}", transfer.Id, payoutId, moved == 1 ? "failed, money back to payable" : "was already failed");
                }
                return;
            }
            case Account account when type == "account.updated":
            {
                var onboarded = StripeGateway.CanReceivePayouts(account);
                var changed = await db.Set<PayoutAccount>().Where(a => a.StripeAccountId == account.Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(a => a.Onboarded, onboarded).SetProperty(a => a.UpdatedAt, now), ct);
                logger.LogInformation("Stripe account {AccountId} updated: onboarded {Onboarded} ({Rows} payout methods)", account.Id, onboarded, changed);
                return;
            }
            case PaymentIntent intent when type == "payment_intent.succeeded":
                await FundAsync(eventId, intent.Id, intent.AmountReceived, intent.Currency, intent.Metadata?.GetValueOrDefault("job_id"), ct);
                return;
            case Session session when type is "checkout.session.completed" or "checkout.session.async_payment_succeeded":
                if (session.PaymentStatus != "paid")
                {
                    // Paid later by a delayed method: checkout.session.async_payment_succeeded funds it then.
                    logger.LogInformation("Stripe Checkout Session {SessionId} completed but not paid yet ({Status})", session.Id, session.PaymentStatus);
                    return;
                }
                await FundAsync(eventId, session.PaymentIntentId, session.AmountTotal ?? 0, session.Currency,
                    session.Metadata?.GetValueOrDefault("job_id") ?? session.ClientReferenceId, ct);
                return;
            case var other when type is "payout.paid" or "payout.failed":
                // The connected account's own payout to its bank. The money left the platform with the transfer, so the
                // ledger does not move; a failure is the contributor's to fix with Stripe.
                logger.Log(type == "payout.failed" ? LogLevel.Warning : LogLevel.Information,
                    "Stripe {Type} for connected account {AccountId}: payout {StripePayoutId}", type, stripeEvent.Account, (other as IHasId)?.Id);
                return;
            default:
                logger.LogWarning("Stripe event {EventId} ({Type}) carries no object of the expected kind; nothing to do", eventId, type);
                return;
        }
    }

    /// <summary>
    /// A card payment for a job's escrow. Its PaymentIntent id is the funding's key, so a Checkout Session's completion and
    /// its PaymentIntent's success (two events, two ids) count once, and refunds go back to that PaymentIntent.
    /// </summary>
    private async Task FundAsync(string eventId, string? paymentIntentId, long amountMinor, string? currency, string? jobText, CancellationToken ct)
    {
        if (paymentIntentId is null || !Guid.TryParse(jobText, out var jobId))
        {
            logger.LogWarning("Stripe event {EventId}: payment {Intent} names no job; nothing funded", eventId, paymentIntentId);
            return;
        }
        var result = await escrow.RecordStripePaymentAsync(jobId, new Money(amountMinor, (currency ?? "").ToUpperInvariant()), paymentIntentId, ct);
        logger.LogInformation("Stripe payment {Intent} for job {JobId}: {Outcome}", paymentIntentId, jobId, result.Outcome);
        if (result.Outcome == FundingOutcome.Recorded)
        {
            await funded.AfterFundingAsync(jobId, ct);
        }
    }
}
