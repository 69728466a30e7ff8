using Crowd.Server.Features.Ledger;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Payouts;

/// <summary>
/// A payout's state change and its ledger movement, in one statement: only rows still in an allowed state move, and
/// the ledger transaction's id and key follow from the payout and the step, so neither can ever happen twice.
/// </summary>
public static class PayoutTransitions
{
    private sealed record Move(PayoutState[] From, PayoutState To, string Step, LedgerTransactionKind Kind, LedgerAccountKind FromAccount, LedgerAccountKind ToAccount);

    private static readonly Move s_settle = new([PayoutState.Sending, PayoutState.Sent], PayoutState.Settled, "settled",
        LedgerTransactionKind.PayoutSettled, LedgerAccountKind.PayoutsInFlight, LedgerAccountKind.PaidOut);

    private static readonly Move s_fail = new([PayoutState.Created, PayoutState.Sending, PayoutState.Sent], PayoutState.Failed, "failed",
        LedgerTransactionKind.PayoutFailed, LedgerAccountKind.PayoutsInFlight, LedgerAccountKind.ContributorPayable);

    private static readonly Move s_reverse = new([PayoutState.Settled], PayoutState.Failed, "reversed",
        LedgerTransactionKind.PayoutReversed, LedgerAccountKind.PaidOut, LedgerAccountKind.ContributorPayable);

    /// <summary>In flight → paid out. Returns how many payouts moved.</summary>
    public static Task<int> SettleAsync(CrowdDb db, Guid payoutId, string? providerReference, DateTimeOffset now, CancellationToken ct) =>
        RunAsync(db, s_settle, payoutId, providerReference, null, now, ct);

    /// <summary>Every line of a bank batch the admin has not failed: in flight → paid out.</summary>
    /// <remarks>One ledger transaction for the whole batch (in flight → paid out by its total), so that a batch of 100,000 lines is two entries.</remarks>
    public static async Task<int> SettleBatchAsync(CrowdDb db, Guid batchId, DateTimeOffset now, CancellationToken ct)
    {
        var tx = Guid.CreateVersion7();
        var platform = AccountRef.Platform;
        var paidOut = (int)LedgerAccountKind.PaidOut;
        var lines = await db.Database.SqlQuery<long>($"""
            WITH moved AS (
                UPDATE payouts SET state = {(int)PayoutState.Settled}, settled_at = {now} WHERE batch_id = {batchId} AND state = {(int)PayoutState.Sent}
                RETURNING currency, amount_minor
            ), totals AS (
                SELECT currency, sum(amount_minor)::bigint AS amount, count(*) AS lines FROM moved GROUP BY currency
            ), accounts AS (
                INSERT INTO ledger_accounts (id, kind, owner_id, currency, created_at)
                SELECT ledger_account_id({paidOut}, {platform}, currency), {paidOut}, {platform}, currency, {now} FROM totals
                ON CONFLICT DO NOTHING
            ), posted AS (
                INSERT INTO ledger_transactions (id, kind, reference, idempotency_key, created_at)
                SELECT {tx}, {(int)LedgerTransactionKind.PayoutSettled}, 'bank batch ' || {batchId} || ': ' || lines || ' lines confirmed',
                       'bank-batch:' || {batchId} || ':settled:' || {tx}, {now} FROM totals
            ), entries AS (
                INSERT INTO ledger_entries (transaction_id, account_id, amount_minor, currency)
                SELECT {tx}, ledger_account_id({(int)LedgerAccountKind.PayoutsInFlight}, {platform}, currency), -amount, currency FROM totals
                UNION ALL
                SELECT {tx}, ledger_account_id({paidOut}, {platform}, currency), amount, currency FROM totals
            )
            SELECT coalesce(sum(lines), 0)::bigint AS "Value" FROM totals
            """).ToListAsync(ct);
        return (int)lines[0];
    }

    /// <summary>In flight → back to the contributor's payable, for the next run.</summary>
    public static Task<int> FailAsync(CrowdDb db, Guid payoutId, string reason, DateTimeOffset now, CancellationToken ct) =>
        RunAsync(db, s_fail, payoutId, null, reason, now, ct);

    /// <summary>A settled payout the provider took back (a reversed transfer): paid out → payable.</summary>
    public static Task<int> ReverseAsync(CrowdDb db, Guid payoutId, string reason, DateTimeOffset now, CancellationToken ct) =>
        RunAsync(db, s_reverse, payoutId, null, reason, now, ct);

    private static async Task<int> RunAsync(CrowdDb db, Move move, Guid target, string? providerReference, string? reason,
        DateTimeOffset now, CancellationToken ct)
    {
        var settled = move.To == PayoutState.Settled;
        var from = move.From.Select(s => (int)s).ToArray();
        var (toKind, fromKind, payable) = ((int)move.ToAccount, (int)move.FromAccount, (int)LedgerAccountKind.ContributorPayable);
        var platform = AccountRef.Platform;
        var moved = await db.Database.SqlQuery<long>($"""
            WITH moved AS (
                UPDATE payouts SET state = {(int)move.To},
                    settled_at = CASE WHEN {settled} THEN {now} ELSE settled_at END,
                    failed_at = CASE WHEN {settled} THEN failed_at ELSE {now} END,
                    failure_reason = coalesce({reason}::varchar, failure_reason),
                    provider_reference = coalesce({providerReference}::varchar, provider_reference)
                WHERE id = {target} AND state = ANY({from})
                RETURNING id, contributor_id, currency, amount_minor
            ), accounts AS (
                INSERT INTO ledger_accounts (id, kind, owner_id, currency, created_at)
                SELECT DISTINCT ledger_account_id({toKind}, CASE WHEN {toKind} = {payable} THEN contributor_id ELSE {platform} END, currency),
                       {toKind}, CASE WHEN {toKind} = {payable} THEN contributor_id ELSE {platform} END, currency, {now}
                FROM moved
                ON CONFLICT DO NOTHING
            ), posted AS (
                INSERT INTO ledger_transactions (id, kind, reference, idempotency_key, created_at)
                SELECT md5('payout:' || id || ':' || {move.Step})::uuid, {(int)move.Kind}, 'payout ' || id, 'payout:' || id || ':' || {move.Step}, {now}
                FROM moved
            ), entries AS (
                INSERT INTO ledger_entries (transaction_id, account_id, amount_minor, currency)
                SELECT md5('payout:' || id || ':' || {move.Step})::uuid,
                       ledger_account_id({fromKind}, CASE WHEN {fromKind} = {payable} THEN contributor_id ELSE {platform} END, currency), -amount_minor, currency
                FROM moved
                UNION ALL
                SELECT md5('payout:' || id || ':' || {move.Step})::uuid,
                       ledger_account_id({toKind}, CASE WHEN {toKind} = {payable} THEN contributor_id ELSE {platform} END, currency), amount_minor, currency
                FROM moved
            )
            SELECT count(*) AS "Value" FROM moved
            """).ToListAsync(ct);
        return (int)moved[0];
    }
}
