using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using Crowd.Server.Infrastructure;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Payouts.Stripe;

public sealed record StripeAccount(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("charges_enabled")] bool ChargesEnabled,
    [property: JsonPropertyName("payouts_enabled")] bool PayoutsEnabled,
    [property: JsonPropertyName("details_submitted")] bool DetailsSubmitted)
{
    /// <summary>An Express account can be paid once Stripe has its details and lets it pay out.</summary>
    public bool CanReceivePayouts => DetailsSubmitted && PayoutsEnabled;
}

public sealed record StripeAccountLink(
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("expires_at")] long ExpiresAt);

public sealed record StripePaymentIntent(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("amount")] long Amount,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("client_secret")] string? ClientSecret);

public sealed record StripeTransfer(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("amount")] long Amount,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("destination")] string? Destination,
    [property: JsonPropertyName("transfer_group")] string? TransferGroup);

public sealed record StripeRefund(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("amount")] long Amount,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("payment_intent")] string? PaymentIntent,
    [property: JsonPropertyName("status")] string? Status);

/// <summary>
/// The few Stripe Connect endpoints the platform calls, over a typed HttpClient: form-encoded bodies with nested
/// keys, an Idempotency-Key on every POST, the pinned Stripe-Version, Stripe's error JSON as <see cref="StripeException"/>,
/// and 429 / 5xx / lost connections retried with exponential backoff and the same idempotency key.
/// </summary>
public sealed class StripeClient(HttpClient http, IOptions<CrowdOptions> options, ILogger<StripeClient> logger)
{
    private StripeOptions Settings => options.Value.Stripe;

    public Task<StripeAccount> CreateExpressAccountAsync(string email, string country, Guid contributorId, string idempotencyKey, CancellationToken ct = default) =>
        PostAsync<StripeAccount>("v1/accounts", idempotencyKey,
        [
            new("type", "express"),
            new("country", country),
            new("email", email),
            new("capabilities[transfers][requested]", "true"),
            new("metadata[contributor_id]", contributorId.ToString()),
        ], ct);

    public Task<StripeAccountLink> CreateAccountLinkAsync(string accountId, Uri refreshUrl, Uri returnUrl, string idempotencyKey, CancellationToken ct = default) =>
        PostAsync<StripeAccountLink>("v1/account_links", idempotencyKey,
        [
            new("account", accountId),
            new("refresh_url", refreshUrl.ToString()),
            new("return_url", returnUrl.ToString()),
            new("type", "account_onboarding"),
        ], ct);

    public Task<StripeAccount> GetAccountAsync(string accountId, CancellationToken ct = default) =>
        SendAsync<StripeAccount>(HttpMethod.Get, "v1/accounts/" + Uri.EscapeDataString(accountId), null, null, ct);

    public Task<StripeTransfer> CreateTransferAsync(long amountMinor, string currency, string destinationAccountId, string transferGroup,
        IReadOnlyDictionary<string, string> metadata, string idempotencyKey, CancellationToken ct = default)
    {
        if (amountMinor <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(amountMinor), amountMinor, "A transfer must be for more than zero.");
        }
        var form = new List<KeyValuePair<string, string>>
        {
            new("amount", amountMinor.ToString(CultureInfo.InvariantCulture)),
            new("currency", currency.ToLowerInvariant()),
            new("destination", destinationAccountId),
            new("transfer_group", transferGroup),
        };
        form.AddRange(metadata.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => new KeyValuePair<string, string>($"metadata[{m.Key}]", m.Value)));
        return PostAsync<StripeTransfer>("v1/transfers", idempotencyKey, form, ct);
    }

    /// <summary>A PaymentIntent a requester pays to fund a job's escrow; payment_intent.succeeded (with metadata[job_id]) records the funding.</summary>
    public Task<StripePaymentIntent> CreateEscrowPaymentIntentAsync(long amountMinor, string currency, Guid jobId, string idempotencyKey, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amountMinor);
        return PostAsync<StripePaymentIntent>("v1/payment_intents", idempotencyKey,
        [
            new("amount", amountMinor.ToString(CultureInfo.InvariantCulture)),
            new("currency", currency.ToLowerInvariant()),
            new("automatic_payment_methods[enabled]", "true"),
            new("transfer_group", "job_" + jobId.ToString("N")),
            new("metadata[job_id]", jobId.ToString()),
        ], ct);
    }

    /// <summary>Gives part of a PaymentIntent back to the card it came from: unused escrow of a closed job.</summary>
    public Task<StripeRefund> CreateRefundAsync(string paymentIntentId, long amountMinor, Guid jobId, Guid refundId, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amountMinor);
        return PostAsync<StripeRefund>("v1/refunds", "refund-" + refundId.ToString("N"),
        [
            new("payment_intent", paymentIntentId),
            new("amount", amountMinor.ToString(CultureInfo.InvariantCulture)),
            new("reason", "requested_by_customer"),
            new("metadata[job_id]", jobId.ToString()),
            new("metadata[refund_id]", refundId.ToString()),
        ], ct);
    }

    private Task<T> PostAsync<T>(string path, string idempotencyKey, IReadOnlyList<KeyValuePair<string, string>> form, CancellationToken ct) =>
        SendAsync<T>(HttpMethod.Post, path, form, idempotencyKey, ct);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, IReadOnlyList<KeyValuePair<string, string>>? form, string? idempotencyKey,
        CancellationToken ct)
    {
        var settings = Settings;
        if (string.IsNullOrEmpty(settings.SecretKey))
        {
            throw new StripeException(HttpStatusCode.Unauthorized, StripeErrorKind.Authentication, null, null,
                "No Stripe secret key is configured (Crowd:Stripe:SecretKey).", null);
        }
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, new Uri(settings.ApiBase, path));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.SecretKey);
            request.Headers.Add("Stripe-Version", settings.ApiVersion);
            if (idempotencyKey is not null)
            {
                request.Headers.Add("Idempotency-Key", idempotencyKey);
            }
            if (form is not null)
            {
                request.Content = new FormUrlEncodedContent(form);
            }

            StripeException? failure;
            TimeSpan? retryAfter = null;
            try
            {
                using var response = await http.SendAsync(request, ct);
                var body = await response.Content.ReadAsStringAsync(ct);
                if (response.IsSuccessStatusCode)
                {
                    return JsonSerializer.Deserialize<T>(body)
                        ?? throw new StripeException(response.StatusCode, StripeErrorKind.Api, null, null, "Stripe answered with an empty body.", null);
                }
                failure = StripeException.FromResponse(response.StatusCode, body, response.Headers.TryGetValues("Request-Id", out var ids) ? ids.FirstOrDefault() : null);
                retryAfter = response.Headers.RetryAfter?.Delta;
                if (response.Headers.TryGetValues("Stripe-Should-Retry", out var should) && bool.TryParse(should.FirstOrDefault(), out var shouldRetry))
                {
                    failure.IsTransient = shouldRetry;
                }
            }
            catch (HttpRequestException e)
            {
                failure = new StripeException(0, StripeErrorKind.Connection, null, null, "Could not reach Stripe: " + e.Message, null) { IsTransient = true };
            }
            catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
            {
                failure = new StripeException(0, StripeErrorKind.Connection, null, null, "Stripe did not answer in time: " + e.Message, null) { IsTransient = true };
            }

            if (!failure.IsTransient || attempt >= settings.MaxRetries)
            {
                logger.LogWarning("Stripe {Method} {Path} failed ({Status} {Kind} {Code}): {Message}", method, path, (int)failure.Status, failure.Kind,
                    failure.Code, failure.Message);
                throw failure;
            }
            var delay = retryAfter ?? Backoff(attempt, settings.RetryBaseDelayMs);
            logger.LogInformation("Stripe {Method} {Path} answered {Status}; retry {Attempt} of {Max} in {Delay} ms", method, path, (int)failure.Status,
                attempt + 1, settings.MaxRetries, (int)delay.TotalMilliseconds);
            await Task.Delay(delay, ct);
        }
    }

    /// <summary>base × 2^attempt, with up to 25 % jitter so that many clients do not retry in step.</summary>
    internal static TimeSpan Backoff(int attempt, int baseDelayMs)
    {
        var ms = baseDelayMs * Math.Pow(2, attempt);
#pragma warning disable CA5394 // jitter, not security
        ms += ms * 0.25 * Random.Shared.NextDouble();
#pragma warning restore CA5394
        return TimeSpan.FromMilliseconds(Math.Min(ms, 30_000));
    }
}
