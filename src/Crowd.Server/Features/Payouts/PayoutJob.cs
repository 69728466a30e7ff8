using System.Globalization;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Scheduling;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Payouts;

/// <summary>
/// The scheduled payout run. Hangfire fires each occurrence of the schedule once across every node (registered with
/// every missed run, so each occurrence gets its own run); the run key is the occurrence, so a retried or repeated fire
/// for the same occurrence finds its run and finishes it instead of paying twice.
/// </summary>
public sealed class PayoutJob(PayoutRunner runner, Escrow.StripeRefunds refunds, CrowdDb db, ILogger<PayoutJob> logger) : IScheduledJob
{
    public const string Name = "payouts";

    public async Task RunAsync(DateTimeOffset scheduledFor, CancellationToken ct)
    {
        var runKey = RunKey(scheduledFor);
        logger.LogInformation("Payout job fired for {RunKey}", runKey);
        // A run that has started finishes even when its node is asked to stop (within the job server's shutdown time):
        // stopping halfway would be safe, but would leave the rest to a later run.
        while ((await runner.RunAsync(runKey, CancellationToken.None)).Outcome == PayoutRunOutcome.Busy)
        {
            // Runs for two occurrences overlap (a slow run, or missed occurrences caught up together): the later one
            // waits its turn rather than skip its occurrence.
            await WaitForTheRunningRunAsync(ct);
        }
        // Refunds of closed jobs' escrow that Stripe could not take at the time go out with the next run.
        await refunds.SendPendingAsync(ct: ct);
    }

    public static string RunKey(DateTimeOffset scheduledFor) =>
        scheduledFor.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>
    /// Blocks on the payout lock until the running run lets go, then lets go of it at once so the run can try again. The
    /// lock belongs to a database session, so a crashed node's run frees it the moment its connection drops.
    /// </summary>
    private async Task WaitForTheRunningRunAsync(CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({PayoutRunner.LockKey})", ct);
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({PayoutRunner.LockKey})", CancellationToken.None);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
