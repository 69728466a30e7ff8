using Crowd.Server.Features.Escrow;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Npgsql;

namespace Crowd.Server.Features.Ledger;

/// <summary>Balances, always derived from entries.</summary>
public static class LedgerQueries
{
    public static async Task<Money> BalanceAsync(CrowdDb db, AccountRef account, CancellationToken ct = default)
    {
        var sum = await db.ScalarAsync<long>("""
            SELECT coalesce(sum(e.amount_minor), 0)::bigint FROM ledger_entries e
            WHERE e.account_id = ledger_account_id(@kind, @owner, @currency::bpchar)
            """, ct, DbCommands.P("kind", (int)account.Kind), DbCommands.P("owner", account.OwnerId), DbCommands.P("currency", account.Currency));
        return new Money(sum, account.Currency);
    }

    /// <summary>
    /// What each of these jobs' escrow holds and what the platform advanced on it, in the job's own currency, in one query;
    /// jobs with neither are absent.
    /// </summary>
    public static async Task<Dictionary<Guid, EscrowBalance>> EscrowsAsync(CrowdDb db, Guid[] jobIds, CancellationToken ct = default)
    {
        await using var command = await db.CommandAsync("""
            SELECT a.owner_id,
                   coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = @escrow), 0)::bigint,
                   coalesce(-sum(e.amount_minor) FILTER (WHERE a.kind = @advance), 0)::bigint
            FROM ledger_accounts a
            JOIN jobs j ON j.id = a.owner_id AND j.currency = a.currency
            JOIN ledger_entries e ON e.account_id = a.id
            WHERE a.kind IN (@escrow, @advance) AND a.owner_id = ANY(@jobs)
            GROUP BY a.owner_id
            """, ct);
        command.Parameters.Add(new NpgsqlParameter<int>("escrow", (int)LedgerAccountKind.Escrow));
        command.Parameters.Add(new NpgsqlParameter<int>("advance", (int)LedgerAccountKind.PlatformAdvance));
        command.Parameters.Add(new NpgsqlParameter<Guid[]>("jobs", jobIds));
        var balances = new Dictionary<Guid, EscrowBalance>(jobIds.Length);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            balances[reader.GetGuid(0)] = new EscrowBalance(reader.GetInt64(1), reader.GetInt64(2));
        }
        return balances;
    }

    public static async Task<EscrowBalance> EscrowAsync(CrowdDb db, Guid jobId, CancellationToken ct = default) =>
        (await EscrowsAsync(db, [jobId], ct)).GetValueOrDefault(jobId);

    /// <summary>Sum of every entry per currency: zero for every currency in a sound ledger.</summary>
    public static async Task<Dictionary<string, long>> TrialBalanceAsync(CrowdDb db, CancellationToken ct = default)
    {
        await using var command = await db.CommandAsync(
            "SELECT currency, sum(amount_minor)::bigint FROM ledger_entries GROUP BY currency", ct);
        return await ReadPairsAsync(command, ct);
    }

    /// <summary>Contributor payable accounts below zero (there must never be any), keyed "owner currency".</summary>
    public static async Task<Dictionary<string, long>> NegativeContributorBalancesAsync(CrowdDb db, CancellationToken ct = default)
    {
        await using var command = await db.CommandAsync("""
            SELECT a.owner_id::text || ' ' || a.currency, sum(e.amount_minor)::bigint
            FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id
            WHERE a.kind = @kind GROUP BY a.owner_id, a.currency HAVING sum(e.amount_minor) < 0
            """, ct);
        command.Parameters.Add(new NpgsqlParameter<int>("kind", (int)LedgerAccountKind.ContributorPayable));
        return await ReadPairsAsync(command, ct);
    }

    private static async Task<Dictionary<string, long>> ReadPairsAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var result = new Dictionary<string, long>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result[reader.GetString(0)] = reader.GetInt64(1);
        }
        return result;
    }
}
