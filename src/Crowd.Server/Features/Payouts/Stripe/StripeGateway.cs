using System.Net;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Money;
using Microsoft.Extensions.Options;
using Stripe;
using Stripe.Checkout;

namespace Crowd.Server.Features.Payouts.Stripe;

/// <summary>
/// The platform's calls to Stripe, through Stripe.net: what each call sends (metadata, transfer groups, idempotency
/// keys) is decided here, once. The <see cref="StripeClient"/> is built once from <see cref="StripeOptions"/>.
/// </summary>
public sealed class StripeGateway(StripeClient client)
{
    public static StripeClient CreateClient(StripeOptions options)
    {
        // Telemetry would send the latency of each previous call along with the next one; nothing here needs that.
        var http = new SystemNetHttpClient(
            new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            {
                Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
            },
            maxNetworkRetries: options.MaxRetries, appInfo: null, enableTelemetry: false);
        return new StripeClient(string.IsNullOrWhiteSpace(options.SecretKey) ? null : options.SecretKey.Trim(), httpClient: http,
            apiBase: options.ApiBase.ToString().TrimEnd('/'));
    }

    /// <summary>
    /// Worth trying again later with the same Idempotency-Key: Stripe could not be reached, did not answer in time, was
    /// rate-limiting (429) or failed on its side (5xx), after Stripe.net's own retries.
    /// </summary>
    public static bool IsTransient(Exception e) => e switch
    {
        StripeException s => s.HttpStatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.Conflict || (int)s.HttpStatusCode >= 500,
        HttpRequestException => true,
        TaskCanceledException => true,
        _ => false,
    };

    /// <summary>Stripe refused the call for good (bad parameters, unknown account, no key): trying again changes nothing.</summary>
    public static bool IsRefusal(Exception e) => e is StripeException && !IsTransient(e);

    /// <summary>Any way a call to Stripe can fail that is Stripe's answer or its absence, not a bug here.</summary>
    public static bool IsFailure(Exception e) => IsRefusal(e) || IsTransient(e);

    /// <summary>An Express account can be paid once Stripe has its details and lets it pay out.</summary>
    public static bool CanReceivePayouts(Account account) => account.DetailsSubmitted && account.PayoutsEnabled;

    public Task<Account> CreateExpressAccountAsync(string email, string country, Guid contributorId, CancellationToken ct = default) =>
        client.V1.Accounts.CreateAsync(new AccountCreateOptions
        {
            Type = "express",
            Country = country,
            Email = email,
            Capabilities = new AccountCapabilitiesOptions { Transfers = new AccountCapabilitiesTransfersOptions { Requested = true } },
            Metadata = new Dictionary<string, string> { ["contributor_id"] = contributorId.ToString() },
        }, Key("express-account-" + contributorId.ToString("N")), ct);

    public Task<AccountLink> CreateOnboardingLinkAsync(string accountId, Uri refreshUrl, Uri returnUrl, string idempotencyKey, CancellationToken ct = default) =>
        client.V1.AccountLinks.CreateAsync(new AccountLinkCreateOptions
        {
            Account = accountId,
            RefreshUrl = refreshUrl.ToString(),
            ReturnUrl = returnUrl.ToString(),
            Type = "account_onboarding",
        }, Key(idempotencyKey), ct);

    public Task<Account> GetAccountAsync(string accountId, CancellationToken ct = default) =>
        client.V1.Accounts.GetAsync(accountId, cancellationToken: ct);

    public Task<Transfer> CreateTransferAsync(Money amount, string destinationAccountId, string transferGroup, IReadOnlyDictionary<string, string> metadata,
        string idempotencyKey, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amount.Minor);
        return client.V1.Transfers.CreateAsync(new TransferCreateOptions
        {
            Amount = amount.Minor,
            Currency = amount.Currency.ToLowerInvariant(),
            Destination = destinationAccountId,
            TransferGroup = transferGroup,
            Metadata = metadata.ToDictionary(),
        }, Key(idempotencyKey), ct);
    }

    /// <summary>Gives part of a PaymentIntent back to the card it came from: unused escrow of a closed job. The refund's id is the key.</summary>
    public Task<Refund> CreateRefundAsync(string paymentIntentId, long amountMinor, Guid jobId, Guid refundId, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amountMinor);
        return client.V1.Refunds.CreateAsync(new RefundCreateOptions
        {
            PaymentIntent = paymentIntentId,
            Amount = amountMinor,
            Reason = "requested_by_customer",
            Metadata = new Dictionary<string, string> { ["job_id"] = jobId.ToString(), ["refund_id"] = refundId.ToString() },
        }, Key("refund-" + refundId.ToString("N")), ct);
    }

    /// <summary>
    /// A hosted Checkout page where a requester pays a job's missing escrow by card. Its PaymentIntent carries the job
    /// (metadata and transfer_group <c>job_&lt;id&gt;</c>), so that the payment funds that job's escrow once and the
    /// job's payouts join the payment's transfer group.
    /// </summary>
    public Task<Session> CreateEscrowCheckoutAsync(Guid jobId, string productName, Money amount, Uri successUrl, Uri cancelUrl, string? customerEmail,
        string idempotencyKey, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(amount.Minor);
        var job = new Dictionary<string, string> { ["job_id"] = jobId.ToString() };
        return client.V1.Checkout.Sessions.CreateAsync(new SessionCreateOptions
        {
            Mode = "payment",
            ClientReferenceId = jobId.ToString(),
            CustomerEmail = customerEmail,
            SuccessUrl = successUrl.ToString(),
            CancelUrl = cancelUrl.ToString(),
            LineItems =
            [
                new SessionLineItemOptions
                {
                    Quantity = 1,
                    PriceData = new SessionLineItemPriceDataOptions
                    {
                        Currency = amount.Currency.ToLowerInvariant(),
                        UnitAmount = amount.Minor,
                        ProductData = new SessionLineItemPriceDataProductDataOptions { Name = productName },
                    },
                },
            ],
            Metadata = job,
            PaymentIntentData = new SessionPaymentIntentDataOptions { Metadata = new Dictionary<string, string>(job), TransferGroup = TransferGroupOf(jobId) },
        }, Key(idempotencyKey), ct);
    }

    private static string TransferGroupOf(Guid jobId) => "job_" + jobId.ToString("N");

    private static RequestOptions Key(string idempotencyKey) => new() { IdempotencyKey = idempotencyKey };
}
