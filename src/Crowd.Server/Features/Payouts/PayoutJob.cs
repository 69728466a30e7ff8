using System.Globalization;
using Quartz;

namespace Crowd.Server.Features.Payouts;

/// <summary>
/// The scheduled payout run. Quartz's clustered store fires each scheduled time on one node only; the run key is that
/// scheduled time, so a recovered or repeated fire for the same time finds its run and finishes it instead of paying twice.
/// </summary>
[DisallowConcurrentExecution]
public sealed class PayoutJob(IServiceScopeFactory scopes, ILogger<PayoutJob> logger) : IJob
{
    public const string Name = "payouts";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var scheduled = context.ScheduledFireTimeUtc ?? context.FireTimeUtc;
        var runKey = scheduled.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        logger.LogInformation("Payout job fired for {RunKey} (recovering: {Recovering})", runKey, context.Recovering);
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<PayoutRunner>().RunAsync(runKey, cancellationToken);
        // Refunds of closed jobs' escrow that Stripe could not take at the time go out with the next run.
        await scope.ServiceProvider.GetRequiredService<Escrow.StripeRefunds>().SendPendingAsync(ct: cancellationToken);
    }
}
