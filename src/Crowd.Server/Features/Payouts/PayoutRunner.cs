using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Payouts.Stripe;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Payouts;

public enum PayoutRunOutcome
{
    Completed,
    /// <summary>A run for this key finished before; nothing was done.</summary>
    AlreadyFinished,
    /// <summary>Another node (or another call) holds the payout lock; nothing was done.</summary>
    Busy,
}

/// <summary>What one run did: payouts created, lines written to bank batches (sent only once an admin sends the file), transfers Stripe accepted.</summary>
public sealed record PayoutRunResult(PayoutRunOutcome Outcome, int Created, int Batched, int Sent, int Failed, int SkippedWithoutMethod)
{
    public static readonly PayoutRunResult Nothing = new(PayoutRunOutcome.Completed, 0, 0, 0, 0, 0);
}

/// <summary>
/// One payout run: gather each contributor's payable above the minimum into one payout per contributor and currency
/// (money payable → in flight in the same transaction), then hand each to its provider. Exactly once, across crashes:
/// creation is one transaction keyed by the run, sending is idempotent (Stripe Idempotency-Key = payout id; a bank
/// batch line is the payout row itself), and a re-run first finishes whatever an earlier run left half-done.
/// </summary>
public sealed class PayoutRunner(CrowdDb db, IOptions<CrowdOptions> options, TimeProvider time, PayoutFaults faults, StripeGateway stripe,
    PayoutNotices notices, ILogger<PayoutRunner> logger)
{
    // One run at a time across every node; a crashed node's session lock goes with its connection.
    internal const long LockKey = 0x5041594F555453; // "PAYOUTS"

    public async Task<PayoutRunResult> RunAsync(string runKey, CancellationToken ct = default)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            if (!(await db.Database.SqlQuery<bool>($"""SELECT pg_try_advisory_lock({LockKey}) AS "Value" """).SingleAsync(ct)))
            {
                logger.LogWarning("Payout run {RunKey} skipped: another payout run holds the payout lock", runKey);
                return PayoutRunResult.Nothing with { Outcome = PayoutRunOutcome.Busy };
            }
            try
            {
                return await RunLockedAsync(runKey, ct);
            }
            finally
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task<PayoutRunResult> RunLockedAsync(string runKey, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var (runId, created, finished, attempts) = (await db.Database.SqlQuery<RunStart>($"""
            INSERT INTO payout_runs (id, run_key, node, attempts, payouts_created, started_at)
            VALUES ({Guid.CreateVersion7()}, {runKey}, {Environment.MachineName + ":" + Environment.ProcessId}, 1, false, {now})
            ON CONFLICT (run_key) DO UPDATE SET attempts = payout_runs.attempts + 1, node = excluded.node
            RETURNING id AS "RunId", payouts_created AS "Created", finished_at IS NOT NULL AS "Finished", attempts AS "Attempts"
            """).ToListAsync(ct)).Single();
        if (finished)
        {
            logger.LogWarning("Payout run {RunKey} finished before; this start (attempt {Attempt}) does nothing", runKey, attempts);
            return PayoutRunResult.Nothing with { Outcome = PayoutRunOutcome.AlreadyFinished };
        }
        if (attempts > 1)
        {
            logger.LogWarning("Payout run {RunKey} resumes after an interrupted attempt (attempt {Attempt})", runKey, attempts);
        }

        var createdCount = 0;
        var skipped = 0;
        if (!created)
        {
            (createdCount, skipped) = await CreatePayoutsAsync(runId, now, ct);
            if (skipped > 0)
            {
                logger.LogWarning("Payout run {RunKey}: {Skipped} contributors have payable above the minimum but no onboarded payout method for its currency; their money stays payable",
                    runKey, skipped);
            }
            await faults.AtAsync(PayoutStep.AfterCreate, null, ct);
        }

        var (batched, sent, failed) = await SendPendingAsync(ct);
        await db.Database.ExecuteSqlAsync($"UPDATE payout_runs SET finished_at = {time.GetUtcNow()} WHERE id = {runId}", ct);
        logger.LogInformation("Payout run {RunKey} finished: {Created} payouts created, {Batched} written to bank batches, {Sent} sent to Stripe, {Failed} failed",
            runKey, createdCount, batched, sent, failed);
        return new PayoutRunResult(PayoutRunOutcome.Completed, createdCount, batched, sent, failed, skipped);
    }

    private async Task<(int Created, int Skipped)> CreatePayoutsAsync(Guid runId, DateTimeOffset now, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Hundreds of thousands of balances aggregate and sort in memory rather than on disk.
        await db.Database.ExecuteSqlAsync($"SET LOCAL work_mem = '64MB'", ct);
        var minimum = options.Value.Payouts.MinimumMinor;
        var stripeEnabled = options.Value.Payouts.Mode == PayoutMode.Stripe;
        var platform = AccountRef.Platform;
        var payable = (int)LedgerAccountKind.ContributorPayable;
        var inFlight = (int)LedgerAccountKind.PayoutsInFlight;
        var counts = (await db.Database.SqlQuery<CreatedCounts>($"""
            WITH balances AS (
                SELECT a.owner_id AS contributor_id, a.currency, sum(e.amount_minor)::bigint AS balance
                FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id
                WHERE a.kind = {payable}
                GROUP BY a.owner_id, a.currency
                HAVING sum(e.amount_minor) >= {minimum}
            ), eligible AS (
                SELECT b.contributor_id, b.currency, b.balance, p.provider
                FROM balances b JOIN payout_accounts p ON p.contributor_id = b.contributor_id
                WHERE p.onboarded AND (p.currency IS NULL OR p.currency = b.currency) AND (p.provider = {(int)PayoutProvider.BankFile} OR {stripeEnabled})
            ), accounts AS (
                INSERT INTO ledger_accounts (id, kind, owner_id, currency, created_at)
                SELECT ledger_account_id({inFlight}, {platform}, currency), {inFlight}, {platform}, currency, {now} FROM (SELECT DISTINCT currency FROM eligible) c
                ON CONFLICT DO NOTHING
            ), created AS (
                INSERT INTO payouts (id, run_id, contributor_id, currency, amount_minor, provider, state, created_at)
                SELECT gen_random_uuid(), {runId}, contributor_id, currency, balance, provider, {(int)PayoutState.Created}, {now} FROM eligible
                ON CONFLICT (run_id, contributor_id, currency) DO NOTHING
                RETURNING id, contributor_id, currency, amount_minor
            ), posted AS (
                -- one ledger transaction per run and currency: each contributor's payable down, payouts in flight up by the total
                INSERT INTO ledger_transactions (id, kind, reference, idempotency_key, created_at)
                SELECT md5('payout-run:' || {runId} || ':' || currency || ':created')::uuid, {(int)LedgerTransactionKind.PayoutCreated},
                       'payouts of run ' || {runId} || ' in ' || currency, 'payout-run:' || {runId} || ':' || currency || ':created', {now}
                FROM (SELECT DISTINCT currency FROM created) c
            ), entries AS (
                INSERT INTO ledger_entries (transaction_id, account_id, amount_minor, currency)
                SELECT tx, account, amount, currency FROM (
                    SELECT md5('payout-run:' || {runId} || ':' || currency || ':created')::uuid AS tx, ledger_account_id({payable}, contributor_id, currency) AS account,
                           -amount_minor AS amount, currency
                    FROM created
                    UNION ALL
                    SELECT md5('payout-run:' || {runId} || ':' || currency || ':created')::uuid, ledger_account_id({inFlight}, {platform}, currency),
                           sum(amount_minor)::bigint, currency
                    FROM created GROUP BY currency
                ) e
                ORDER BY currency -- each transaction's entries adjacent: its balance is checked once, not once per entry
            ), updated AS (
                UPDATE payout_runs SET payouts_created = true WHERE id = {runId}
            )
            SELECT (SELECT count(*) FROM created)::int AS "Created", ((SELECT count(*) FROM balances) - (SELECT count(*) FROM eligible))::int AS "Skipped"
            """).ToListAsync(ct)).Single();
        var (created, skipped) = (counts.Created, counts.Skipped);
        await tx.CommitAsync(ct);
        return (created, skipped);
    }

    /// <summary>Sends every payout not yet sent, of this run and of any earlier run a crash interrupted.</summary>
    private async Task<(int Batched, int Sent, int Failed)> SendPendingAsync(CancellationToken ct)
    {
        int batched;
        var sent = 0;
        var failed = 0;
        await faults.AtAsync(PayoutStep.BeforeProviderCall, null, ct);
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var now = time.GetUtcNow();
            // A bank batch line is the payout row itself: putting it in its run's batch is the whole of "sending" it.
            var bank = (int)PayoutProvider.BankFile;
            var (unsent, sending) = ((int)PayoutState.Created, (int)PayoutState.Sending);
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO bank_payout_batches (id, run_id, currency, state, created_at)
                SELECT gen_random_uuid(), run_id, currency, {(int)BankBatchState.Written}, {now} FROM payouts
                WHERE provider = {bank} AND state IN ({unsent}, {sending}) GROUP BY run_id, currency
                ON CONFLICT (run_id, currency) DO NOTHING
                """, ct);
            batched = await db.Database.ExecuteSqlAsync($"""
                UPDATE payouts p SET state = {(int)PayoutState.Sent}, batch_id = b.id, sent_at = {now}
                FROM bank_payout_batches b
                WHERE b.run_id = p.run_id AND b.currency = p.currency AND p.provider = {bank} AND p.state IN ({unsent}, {sending})
                """, ct);
            await tx.CommitAsync(ct);
        }

        var stripePayouts = await db.Set<Payout>().AsNoTracking()
            .Where(p => p.Provider == PayoutProvider.Stripe && (p.State == PayoutState.Created || p.State == PayoutState.Sending))
            .OrderBy(p => p.CreatedAt).ThenBy(p => p.Id)
            .ToListAsync(ct);
        foreach (var payout in stripePayouts)
        {
            switch (await SendToStripeAsync(payout, ct))
            {
                case true:
                    sent++;
                    break;
                case false:
                    failed++;
                    break;
            }
        }
        return (batched, sent, failed);
    }

    /// <summary>
    /// Created → sending, fixing the transfer_group on the first send: <c>job_&lt;id&gt;</c> when every accrual since the
    /// contributor's previous payout in this currency was on one job, so that the transfer joins the PaymentIntents that
    /// funded that job; <c>payout_&lt;id&gt;</c> when the money came from several jobs (their ids go in the metadata).
    /// </summary>
    private async Task<(string TransferGroup, string JobIds)> MarkSendingAsync(Payout payout, CancellationToken ct)
    {
        var named = await db.Database.SqlQuery<TransferNames>($"""
            WITH jobs AS (
                SELECT DISTINCT a.job_id FROM earnings_accruals a
                WHERE a.contributor_id = {payout.ContributorId} AND a.currency = {payout.Currency} AND a.updated_at <= {payout.CreatedAt}
                  AND a.updated_at > coalesce((SELECT max(p.created_at) FROM payouts p
                      WHERE p.contributor_id = {payout.ContributorId} AND p.currency = {payout.Currency} AND p.created_at < {payout.CreatedAt}
                        AND p.state <> {(int)PayoutState.Failed}), '-infinity')
            ), named AS (
                SELECT CASE WHEN count(*) = 1 THEN 'job_' || replace(min(job_id::text), '-', '') ELSE 'payout_' || replace({payout.Id}::text, '-', '') END AS transfer_group,
                       left(coalesce(string_agg(job_id::text, ',' ORDER BY job_id), ''), 500) AS job_ids
                FROM jobs
            )
            UPDATE payouts SET state = {(int)PayoutState.Sending}, transfer_group = coalesce(payouts.transfer_group, named.transfer_group),
                job_ids = coalesce(payouts.job_ids, named.job_ids)
            FROM named
            WHERE payouts.id = {payout.Id} AND payouts.state IN ({(int)PayoutState.Created}, {(int)PayoutState.Sending})
            RETURNING payouts.transfer_group AS "TransferGroup", payouts.job_ids AS "JobIds"
            """).ToListAsync(ct);
        return named is [var first]
            ? (first.TransferGroup, first.JobIds)
            : (payout.TransferGroup ?? "payout_" + payout.Id.ToString("N"), payout.JobIds ?? "");
    }

    /// <summary>True when sent, false when failed for good (money back to payable), null when it must wait for the next run.</summary>
    private async Task<bool?> SendToStripeAsync(Payout payout, CancellationToken ct)
    {
        var (transferGroup, jobIds) = await MarkSendingAsync(payout, ct);
        await faults.AtAsync(PayoutStep.BeforeProviderCall, payout.Id, ct);
        var account = await db.Set<PayoutAccount>().AsNoTracking().FirstOrDefaultAsync(a => a.ContributorId == payout.ContributorId, ct);
        if (account is not { Onboarded: true, StripeAccountId: not null })
        {
            logger.LogWarning("Payout {PayoutId} failed: contributor {ContributorId} has no onboarded Stripe account; the money returns to payable",
                payout.Id, payout.ContributorId);
            await PayoutTransitions.FailAsync(db, payout.Id, "No onboarded Stripe account.", time.GetUtcNow(), ct);
            return false;
        }
        string transferId;
        try
        {
            transferId = (await stripe.CreateTransferAsync(new Money(payout.AmountMinor, payout.Currency), account.StripeAccountId, transferGroup,
                new Dictionary<string, string>
                {
                    ["payout_id"] = payout.Id.ToString(),
                    ["contributor_id"] = payout.ContributorId.ToString(),
                    ["job_ids"] = jobIds,
                },
                idempotencyKey: "payout-" + payout.Id.ToString("N"), ct)).Id;
        }
        catch (Exception e) when (StripeGateway.IsRefusal(e))
        {
            logger.LogWarning("Payout {PayoutId} refused by Stripe: {Message}; the money returns to payable", payout.Id, e.Message);
            var reason = "Stripe: " + e.Message;
            await PayoutTransitions.FailAsync(db, payout.Id, reason[..Math.Min(Payout.MaxFailureReasonLength, reason.Length)], time.GetUtcNow(), ct);
            return false;
        }
        catch (Exception e) when (StripeGateway.IsTransient(e))
        {
            logger.LogWarning("Payout {PayoutId} not sent: Stripe unavailable after retries ({Message}); the next run sends it with the same idempotency key",
                payout.Id, e.Message);
            return null;
        }
        await faults.AtAsync(PayoutStep.AfterProviderCall, payout.Id, ct);
        await db.InTransactionAsync(async () =>
        {
            await db.Database.ExecuteSqlAsync($"""
                UPDATE payouts SET state = {(int)PayoutState.Sent}, provider_reference = {transferId}, sent_at = {time.GetUtcNow()}
                WHERE id = {payout.Id} AND state = {(int)PayoutState.Sending}
                """, ct);
            return await notices.SentAsync(payout.Id, ct);
        }, ct);
        return true;
    }
}

internal sealed record RunStart(Guid RunId, bool Created, bool Finished, int Attempts);

internal sealed record CreatedCounts(int Created, int Skipped);

internal sealed record TransferNames(string TransferGroup, string JobIds);
