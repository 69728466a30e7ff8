using Crowd.Server.Features.Ledger;
using Crowd.Server.Infrastructure.Database;
using Npgsql;

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
        RunAsync(db, s_settle, "id = @target", payoutId, providerReference, null, now, ct);

    /// <summary>Every line of a bank batch the admin has not failed: in flight → paid out.</summary>
    /// <remarks>One ledger transaction for the whole batch (in flight → paid out by its total), so that a batch of 100,000 lines is two entries.</remarks>
    public static async Task<int> SettleBatchAsync(CrowdDb db, Guid batchId, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = await db.CommandAsync("""
            WITH moved AS (
                UPDATE payouts SET state = 3, settled_at = @now WHERE batch_id = @batch AND state = 2
                RETURNING currency, amount_minor
            ), totals AS (
                SELECT currency, sum(amount_minor)::bigint AS amount, count(*) AS lines FROM moved GROUP BY currency
            ), accounts AS (
                INSERT INTO ledger_accounts (id, kind, owner_id, currency, created_at)
                SELECT ledger_account_id(6, @platform, currency), 6, @platform, currency, @now FROM totals
                ON CONFLICT DO NOTHING
            ), posted AS (
                INSERT INTO ledger_transactions (id, kind, reference, idempotency_key, created_at)
                SELECT @tx, 4, 'bank batch ' || @batch || ': ' || lines || ' lines confirmed', 'bank-batch:' || @batch || ':settled:' || @tx, @now FROM totals
            ), entries AS (
                INSERT INTO ledger_entries (transaction_id, account_id, amount_minor, currency)
                SELECT @tx, ledger_account_id(5, @platform, currency), -amount, currency FROM totals
                UNION ALL
                SELECT @tx, ledger_account_id(6, @platform, currency), amount, currency FROM totals
            )
            SELECT coalesce(sum(lines), 0)::bigint FROM totals
            """, ct);
        command.Parameters.Add(new NpgsqlParameter<Guid>("batch", batchId));
        command.Parameters.Add(new NpgsqlParameter<Guid>("tx", Guid.CreateVersion7()));
        command.Parameters.Add(new NpgsqlParameter<Guid>("platform", AccountRef.Platform));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        return (int)(long)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>In flight → back to the contributor's payable, for the next run.</summary>
    public static Task<int> FailAsync(CrowdDb db, Guid payoutId, string reason, DateTimeOffset now, CancellationToken ct) =>
        RunAsync(db, s_fail, "id = @target", payoutId, null, reason, now, ct);

    /// <summary>A settled payout the provider took back (a reversed transfer): paid out → payable.</summary>
    public static Task<int> ReverseAsync(CrowdDb db, Guid payoutId, string reason, DateTimeOffset now, CancellationToken ct) =>
        RunAsync(db, s_reverse, "id = @target", payoutId, null, reason, now, ct);

    private static async Task<int> RunAsync(CrowdDb db, Move move, string filter, Guid target, string? providerReference, string? reason,
        DateTimeOffset now, CancellationToken ct)
    {
        var settled = move.To == PayoutState.Settled;
        var sql = $"""
            WITH moved AS (
                UPDATE payouts SET state = @to,
                    settled_at = CASE WHEN @settled THEN @now ELSE settled_at END,
                    failed_at = CASE WHEN @settled THEN failed_at ELSE @now END,
                    failure_reason = coalesce(@reason, failure_reason),
                    provider_reference = coalesce(@reference, provider_reference)
                WHERE {filter} AND state = ANY(@from)
                RETURNING id, contributor_id, currency, amount_minor
            ), accounts AS (
                INSERT INTO ledger_accounts (id, kind, owner_id, currency, created_at)
                SELECT DISTINCT ledger_account_id(@to_kind, CASE WHEN @to_kind = 2 THEN contributor_id ELSE @platform END, currency),
                       @to_kind, CASE WHEN @to_kind = 2 THEN contributor_id ELSE @platform END, currency, @now
                FROM moved
                ON CONFLICT DO NOTHING
            ), posted AS (
                INSERT INTO ledger_transactions (id, kind, reference, idempotency_key, created_at)
                SELECT md5('payout:' || id || ':' || @step)::uuid, @kind, 'payout ' || id, 'payout:' || id || ':' || @step, @now FROM moved
            ), entries AS (
                INSERT INTO ledger_entries (transaction_id, account_id, amount_minor, currency)
                SELECT md5('payout:' || id || ':' || @step)::uuid,
                       ledger_account_id(@from_kind, CASE WHEN @from_kind = 2 THEN contributor_id ELSE @platform END, currency), -amount_minor, currency
                FROM moved
                UNION ALL
                SELECT md5('payout:' || id || ':' || @step)::uuid,
                       ledger_account_id(@to_kind, CASE WHEN @to_kind = 2 THEN contributor_id ELSE @platform END, currency), amount_minor, currency
                FROM moved
            )
            SELECT count(*) FROM moved
            """;
        await using var command = await db.CommandAsync(sql, ct);
        command.Parameters.Add(new NpgsqlParameter<Guid>("target", target));
        command.Parameters.Add(new NpgsqlParameter<int>("to", (int)move.To));
        command.Parameters.Add(new NpgsqlParameter<int[]>("from", move.From.Select(s => (int)s).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<bool>("settled", settled));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
        command.Parameters.Add(new NpgsqlParameter("reason", NpgsqlTypes.NpgsqlDbType.Varchar) { Value = (object?)reason ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("reference", NpgsqlTypes.NpgsqlDbType.Varchar) { Value = (object?)providerReference ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<int>("to_kind", (int)move.ToAccount));
        command.Parameters.Add(new NpgsqlParameter<int>("from_kind", (int)move.FromAccount));
        command.Parameters.Add(new NpgsqlParameter<Guid>("platform", AccountRef.Platform));
        command.Parameters.Add(new NpgsqlParameter<string>("step", move.Step));
        command.Parameters.Add(new NpgsqlParameter<int>("kind", (int)move.Kind));
        return (int)(long)(await command.ExecuteScalarAsync(ct))!;
    }
}
