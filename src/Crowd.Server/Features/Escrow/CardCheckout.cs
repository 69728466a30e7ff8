using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Payouts.Stripe;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Escrow;

public enum CheckoutOutcome
{
    /// <summary>Send the requester to <see cref="CheckoutStart.Url"/>, Stripe's hosted payment page.</summary>
    Redirect,
    NotFound,
    /// <summary>The job has no budget yet, or its escrow already covers it: there is nothing to pay.</summary>
    NothingToPay,
    /// <summary>Card payments need a Stripe key, and none is configured.</summary>
    NotOffered,
    /// <summary>Stripe refused or could not be reached; nothing was charged.</summary>
    StripeFailed,
}

public sealed record CheckoutStart(CheckoutOutcome Outcome, Uri? Url = null, Money? Amount = null);

/// <summary>
/// "Pay by card": a Stripe Checkout Session for exactly what a job's escrow is missing. The payment funds the escrow when
/// Stripe's webhook says it succeeded (<see cref="StripeWebhooks"/>), never on the requester's return to the page.
/// </summary>
public sealed class CardCheckout(CrowdDb db, StripeGateway stripe, IOptions<CrowdOptions> options, TimeProvider time, ILogger<CardCheckout> logger)
{
    public bool Offered => !string.IsNullOrWhiteSpace(options.Value.Stripe.SecretKey);

    public async Task<CheckoutStart> StartAsync(Guid organisationId, Guid jobId, string? email, CancellationToken ct = default)
    {
        if (!Offered)
        {
            return new CheckoutStart(CheckoutOutcome.NotOffered);
        }
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId && j.OrganisationId == organisationId && j.Status != JobStatus.Closed, ct);
        if (job is null)
        {
            return new CheckoutStart(CheckoutOutcome.NotFound);
        }
        var status = await JobFunding.StatusAsync(db, jobId, ct);
        var missing = status is null ? null : (Money?)BankTransfers.Missing(status);
        if (status is not { Budget.Minor: > 0 } || missing is not { Minor: > 0 } amount)
        {
            return new CheckoutStart(CheckoutOutcome.NothingToPay);
        }
        var page = new Uri(options.Value.PublicUrl!, "/Jobs/Edit?id=" + jobId);
        try
        {
            // A second click within the minute for the same amount gets the same session back instead of a second one.
            var session = await stripe.CreateEscrowCheckoutAsync(jobId, "Escrow: " + job.Terms.Title, amount, new Uri(page + "&funding=card-paid"),
                new Uri(page + "&funding=card-cancelled"), email, $"checkout-{jobId:N}-{amount.Minor}-{time.GetUtcNow().ToUnixTimeSeconds() / 60}", ct);
            logger.LogInformation("Checkout Session {SessionId} for {Amount} opened for job {JobId}", session.Id, amount, jobId);
            return new CheckoutStart(CheckoutOutcome.Redirect, new Uri(session.Url), amount);
        }
        catch (Exception e) when (StripeGateway.IsFailure(e))
        {
            logger.LogWarning("Checkout Session for job {JobId} not opened: {Message}", jobId, e.Message);
            return new CheckoutStart(CheckoutOutcome.StripeFailed, Amount: amount);
        }
    }
}
