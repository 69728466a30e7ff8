using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Ledger;

/// <summary>
/// Posts balanced transactions in one SQL statement however many there are: accounts are created on first
/// use, a transaction whose idempotency key exists already is skipped with its entries.
/// </summary>
public static class LedgerWriter
{
    /// <summary>Posts one transaction; false when its idempotency key was posted before.</summary>
    public static async Task<bool> PostAsync(CrowdDb db, LedgerPosting posting, DateTimeOffset now, CancellationToken ct) =>
        await PostManyAsync(db, [posting], now, ct) == 1;

    /// <summary>Posts many transactions in one round trip; returns how many were new.</summary>
    public static async Task<int> PostManyAsync(CrowdDb db, IReadOnlyList<LedgerPosting> postings, DateTimeOffset now, CancellationToken ct)
    {
        foreach (var posting in postings)
        {
            var problems = LedgerRules.Problems(posting);
            if (problems.Count > 0)
            {
                throw new ArgumentException($"Ledger transaction {posting.IdempotencyKey} refused: {string.Join(" ", problems)}", nameof(postings));
            }
        }
        if (postings.Count == 0)
        {
            return 0;
        }
        var lineCount = postings.Sum(p => p.Lines.Count);
        var txIds = new Guid[postings.Count];
        var txKinds = new int[postings.Count];
        var txReferences = new string[postings.Count];
        var txKeys = new string[postings.Count];
        var entryTx = new Guid[lineCount];
        var entryKinds = new int[lineCount];
        var entryOwners = new Guid[lineCount];
        var entryCurrencies = new string[lineCount];
        var entryAmounts = new long[lineCount];
        var i = 0;
        for (var t = 0; t < postings.Count; t++)
        {
            var posting = postings[t];
            txIds[t] = posting.Id;
            txKinds[t] = (int)posting.Kind;
            txReferences[t] = posting.Reference.Length > 200 ? posting.Reference[..200] : posting.Reference;
            txKeys[t] = posting.IdempotencyKey;
            foreach (var line in posting.Lines)
            {
                entryTx[i] = posting.Id;
                entryKinds[i] = (int)line.Account.Kind;
                entryOwners[i] = line.Account.OwnerId;
                entryCurrencies[i] = line.Account.Currency;
                entryAmounts[i] = line.AmountMinor;
                i++;
            }
        }
        var posted = await db.Database.SqlQuery<long>($"""
            WITH lines AS (
                SELECT * FROM unnest({entryTx}, {entryKinds}, {entryOwners}, {entryCurrencies}, {entryAmounts}) AS e(tx, kind, owner, currency, amount)
            ), accounts AS (
                INSERT INTO ledger_accounts (id, kind, owner_id, currency, created_at)
                SELECT DISTINCT ledger_account_id(l.kind, l.owner, l.currency::bpchar), l.kind, l.owner, l.currency, {now}
                FROM lines l
                ON CONFLICT DO NOTHING
            ), posted AS (
                INSERT INTO ledger_transactions (id, kind, reference, idempotency_key, created_at)
                SELECT t.id, t.kind, t.reference, t.key, {now}
                FROM unnest({txIds}, {txKinds}, {txReferences}, {txKeys}) AS t(id, kind, reference, key)
                ON CONFLICT (idempotency_key) DO NOTHING
                RETURNING id
            ), entries AS (
                INSERT INTO ledger_entries (transaction_id, account_id, amount_minor, currency)
                SELECT l.tx, ledger_account_id(l.kind, l.owner, l.currency::bpchar), l.amount, l.currency
                FROM lines l JOIN posted ON posted.id = l.tx
            )
            SELECT count(*) AS "Value" FROM posted
            """).ToListAsync(ct);
        return (int)posted[0];
    }
}
