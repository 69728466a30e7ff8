using Crowd.Server.Features.Payouts.BankFile;
using Crowd.Server.Features.Payouts.Stripe;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Scheduling;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Payouts;

public static class PayoutsSetup
{
    private const long MaxWebhookBytes = 1_000_000;

    public static WebApplicationBuilder AddPayouts(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<PayoutFaults>();
        services.AddScoped<PayoutRunner>();
        services.AddScoped<BankBatches>();
        services.AddScoped<PayoutNotices>();
        services.AddScoped<StripeWebhooks>();
        services.AddSingleton(sp => StripeGateway.CreateClient(sp.GetRequiredService<IOptions<CrowdOptions>>().Value.Stripe));
        services.AddSingleton<StripeGateway>();
        services.AddSingleton<PayoutAccountNumbers>();
        services.AddHostedService<LegacyAccountNumberProtection>();

        builder.AddScheduledJob<PayoutJob>(PayoutJob.Name, o => o.Payouts.Cron, everyMissedRun: true);
        return builder;
    }

    public static RouteGroupBuilder MapPayouts(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/payouts").ExcludeFromDescription().DisableAntiforgery();
        group.MapPost("/stripe/webhook", async (HttpRequest request, StripeWebhooks webhooks, CancellationToken ct) =>
            {
                // Stripe events are a few kilobytes; a large body is not one of them.
                if (request.ContentLength > MaxWebhookBytes)
                {
                    return Results.Problem(statusCode: 413, title: "Too large", detail: "A Stripe event is at most 1 MB.");
                }
                using var buffer = new MemoryStream();
                await request.Body.CopyToAsync(buffer, ct);
                var outcome = await webhooks.ReceiveAsync(request.Headers["Stripe-Signature"].ToString(), buffer.ToArray(), ct);
                return outcome switch
                {
                    WebhookOutcome.Refused => Results.Problem(statusCode: 400, title: "Event refused",
                        detail: "The Stripe-Signature header does not match a configured webhook secret, its timestamp is outside the tolerance, or the event is rendered for another API version than the one Stripe.net pins."),
                    WebhookOutcome.BadPayload => Results.Problem(statusCode: 400, title: "Not a Stripe event", detail: "The body is not a Stripe event object."),
                    _ => Results.Ok(new { received = true, outcome = outcome.ToString() }),
                };
            });
        return group;
    }
}
