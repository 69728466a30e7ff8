using Microsoft.Extensions.Options;
using Crowd.Server.Infrastructure;

namespace Crowd.Server.Features.Payouts;

public enum PayoutStep
{
    /// <summary>Payouts created and money moved to in-flight; nothing sent yet.</summary>
    AfterCreate,
    /// <summary>A payout marked sending; the provider not yet called.</summary>
    BeforeProviderCall,
    /// <summary>The provider accepted the payout; that is not yet recorded.</summary>
    AfterProviderCall,
    /// <summary>Inside the settlement transaction, before it commits.</summary>
    BeforeSettleCommit,
}

/// <summary>
/// Fault injection for the exactly-once tests: a hook that throws at a step, or (Crowd:Payouts:HoldAtStep) a step at
/// which the run stops and waits forever so that a test can kill the process there. Both are inert by default.
/// </summary>
public sealed class PayoutFaults(IOptions<CrowdOptions> options, ILogger<PayoutFaults> logger)
{
    public Func<PayoutStep, Guid?, Task>? Hook { get; set; }

    public async Task AtAsync(PayoutStep step, Guid? payoutId, CancellationToken ct)
    {
        if (Hook is { } hook)
        {
            await hook(step, payoutId);
        }
        if (options.Value.Payouts.HoldAtStep is { } hold && hold == step)
        {
            logger.LogWarning("Payout run holding at step {Step} (payout {PayoutId}) as configured", step, payoutId);
            await Task.Delay(Timeout.Infinite, ct);
        }
    }
}
