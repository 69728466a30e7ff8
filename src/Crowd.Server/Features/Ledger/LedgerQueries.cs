using Crowd.Server.Features.Escrow;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Ledger;

/// <summary>Balances, always derived from entries.</summary>
public static class LedgerQueries
{
    public static async Task<Money> BalanceAsync(CrowdDb db, AccountRef account, CancellationToken ct = default)
    {
        var sum = await db.Database.SqlQuery<long>($"""
            SELECT coalesce(sum(e.amount_minor), 0)::bigint AS "Value" FROM ledger_entries e
            WHERE e.account_id = ledger_account_id({(int)account.Kind}, {account.OwnerId}, {account.Currency}::bpchar)
            """).SingleAsync(ct);
        return new Money(sum, account.Currency);
    }

    /// <summary>
    /// What each of these jobs' escrow holds and what the platform advanced on it, in the job's own currency, in one query;
    /// jobs with neither are absent.
    /// </summary>
    public static async Task<Dictionary<Guid, EscrowBalance>> EscrowsAsync(CrowdDb db, Guid[] jobIds, CancellationToken ct = default)
    {
        var escrow = (int)LedgerAccountKind.Escrow;
        var advance = (int)LedgerAccountKind.PlatformAdvance;
        var rows = await db.Database.SqlQuery<JobEscrow>($"""
            SELECT a.owner_id AS "JobId",
                   coalesce(sum(e.amount_minor) FILTER (WHERE a.kind = {escrow}), 0)::bigint AS "HeldMinor",
                   coalesce(-sum(e.amount_minor) FILTER (WHERE a.kind = {advance}), 0)::bigint AS "AdvancedMinor"
            FROM ledger_accounts a
            JOIN jobs j ON j.id = a.owner_id AND j.currency = a.currency
            JOIN ledger_entries e ON e.account_id = a.id
            WHERE a.kind IN ({escrow}, {advance}) AND a.owner_id = ANY({jobIds})
            GROUP BY a.owner_id
            """).ToListAsync(ct);
        return rows.ToDictionary(r => r.JobId, r => new EscrowBalance(r.HeldMinor, r.AdvancedMinor));
    }

    public static async Task<EscrowBalance> EscrowAsync(CrowdDb db, Guid jobId, CancellationToken ct = default) =>
        (await EscrowsAsync(db, [jobId], ct)).GetValueOrDefault(jobId);

    /// <summary>Sum of every entry per currency: zero for every currency in a sound ledger.</summary>
    public static async Task<Dictionary<string, long>> TrialBalanceAsync(CrowdDb db, CancellationToken ct = default) =>
        (await db.Database.SqlQuery<KeyedSum>($"""
            SELECT currency::text AS "Key", sum(amount_minor)::bigint AS "Sum" FROM ledger_entries GROUP BY currency
            """).ToListAsync(ct)).ToDictionary(r => r.Key, r => r.Sum);

    /// <summary>Contributor payable accounts below zero (there must never be any), keyed "owner currency".</summary>
    public static async Task<Dictionary<string, long>> NegativeContributorBalancesAsync(CrowdDb db, CancellationToken ct = default) =>
        (await db.Database.SqlQuery<KeyedSum>($"""
            SELECT a.owner_id::text || ' ' || a.currency AS "Key", sum(e.amount_minor)::bigint AS "Sum"
            FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id
            WHERE a.kind = {(int)LedgerAccountKind.ContributorPayable} GROUP BY a.owner_id, a.currency HAVING sum(e.amount_minor) < 0
            """).ToListAsync(ct)).ToDictionary(r => r.Key, r => r.Sum);

    private sealed record JobEscrow(Guid JobId, long HeldMinor, long AdvancedMinor);

    private sealed record KeyedSum(string Key, long Sum);
}
