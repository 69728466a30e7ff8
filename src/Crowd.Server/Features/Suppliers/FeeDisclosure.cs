namespace Crowd.Server.Features.Suppliers;

/// <summary>
/// When a supplier may see the fee it earned on a published cell. Fee rates are public per job (contributors read them
/// before consenting), so a job's fee adds nothing to its published pay. The all-jobs fee is different: with the all-jobs
/// pay it gives two sums over the month's suppressed jobs, pay and pay weighted by rate. When those jobs have two
/// different rates, the two sums solve for each job's pay, and a job is suppressed because it has fewer than five people.
/// So the all-jobs fee is shown only when the suppressed jobs share one rate (or there are none); otherwise the fee is
/// shown per published job only, the figures' own granularity.
/// </summary>
public static class FeeDisclosure
{
    public static bool AllJobsFeeShowable(IEnumerable<int> suppressedJobRatesBp) => suppressedJobRatesBp.Distinct().Take(2).Count() <= 1;
}
