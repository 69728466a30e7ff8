using Crowd.Server.Features.Ledger;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Npgsql;
using NpgsqlTypes;

namespace Crowd.Server.Features.Earnings;

/// <summary>A session's accrual state: the cumulative active time accrued so far and the totals it produced.</summary>
public sealed class EarningsAccrualRow
{
    public Guid SessionId { get; set; }
    public Guid ContributorId { get; set; }
    public Guid JobId { get; set; }
    public string Currency { get; set; } = "";
    public long HourlyRateMinor { get; set; }
    public int PlatformFeeBp { get; set; }
    public int SupplierFeeBp { get; set; }
    public Guid? SupplierOrganisationId { get; set; }
    public long ActiveMsTotal { get; set; }
    public long AccruedMinor { get; set; }
    public long PlatformFeeMinor { get; set; }
    public long SupplierFeeMinor { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A session checkpoint: the session's CUMULATIVE active time so far.</summary>
public readonly record struct Checkpoint(Guid SessionId, Guid ContributorId, Guid JobId, long ActiveMsTotal);

public sealed record AccrualResult(Guid SessionId, Money AccruedTotal, long PostedMinor);

/// <summary>
/// Turns session checkpoints into ledger accruals (escrow → contributor payable, plus the disclosed fees).
/// Idempotent and crash-safe: the totals follow from the cumulative time, and only the difference over what the
/// session's row already records is posted, in the same transaction that records the new totals.
/// </summary>
public static class EarningsAccrual
{
    // The rate is fixed at the session's first checkpoint, and never below the region's floor.
    private const string SeedSql = """
        INSERT INTO earnings_accruals (session_id, contributor_id, job_id, currency, hourly_rate_minor, platform_fee_bp, supplier_fee_bp,
            supplier_organisation_id, active_ms_total, accrued_minor, platform_fee_minor, supplier_fee_minor, created_at, updated_at)
        SELECT i.session_id, i.contributor_id, j.id, j.currency,
               GREATEST(j.hourly_rate_minor, coalesce(GREATEST(f.legal_minimum_minor, f.market_reference_minor), 0)),
               coalesce(b.platform_fee_bp, 0), coalesce(b.supplier_fee_bp, 0), b.supplier_organisation_id, 0, 0, 0, 0, @now, @now
        FROM unnest(@sessions, @contributors, @jobs) AS i(session_id, contributor_id, job_id)
        JOIN jobs j ON j.id = i.job_id
        LEFT JOIN rate_floors f ON f.region = j.region AND f.currency = j.currency
        LEFT JOIN job_budgets b ON b.job_id = j.id
        ON CONFLICT (session_id) DO NOTHING;
        SELECT session_id, contributor_id, job_id, currency, hourly_rate_minor, platform_fee_bp, supplier_fee_bp, supplier_organisation_id,
               active_ms_total, accrued_minor, platform_fee_minor, supplier_fee_minor
        FROM earnings_accruals WHERE session_id = ANY(@sessions) ORDER BY session_id FOR UPDATE;
        """;

    private const string UpdateSql = """
        UPDATE earnings_accruals a SET active_ms_total = u.ms, accrued_minor = u.accrued, platform_fee_minor = u.platform_fee,
            supplier_fee_minor = u.supplier_fee, updated_at = @now
        FROM unnest(@sessions, @ms, @accrued, @platform_fees, @supplier_fees) AS u(session_id, ms, accrued, platform_fee, supplier_fee)
        WHERE a.session_id = u.session_id
        """;

    /// <summary>The seam the session checkpoint calls, with the session's cumulative active time.</summary>
    public static async Task<AccrualResult> AccrueAsync(CrowdDb db, Guid sessionId, Guid contributorId, Guid jobId, long activeMsTotal,
        TimeProvider time, CancellationToken ct = default) =>
        (await AccrueManyAsync(db, [new Checkpoint(sessionId, contributorId, jobId, activeMsTotal)], time, ct))[0];

    /// <summary>Accrues many checkpoints in a handful of round trips (the benchmark accrues 100,000 at once).</summary>
    public static async Task<IReadOnlyList<AccrualResult>> AccrueManyAsync(CrowdDb db, IReadOnlyList<Checkpoint> checkpoints, TimeProvider time,
        CancellationToken ct = default)
    {
        foreach (var c in checkpoints)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(c.ActiveMsTotal, nameof(checkpoints));
        }
        // The same session twice in one call: its largest cumulative time is the one that counts.
        // Sorted, so that concurrent bulk calls touch rows in one order and cannot deadlock each other.
        var latest = checkpoints.GroupBy(c => c.SessionId).Select(g => g.MaxBy(c => c.ActiveMsTotal)).OrderBy(c => c.SessionId).ToList();
        var now = time.GetUtcNow();
        return await db.InTransactionAsync(async () =>
        {
            var rows = new Dictionary<Guid, EarningsAccrualRow>(latest.Count);
            await using (var seed = await db.CommandAsync(SeedSql, ct))
            {
                seed.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
                seed.Parameters.Add(new NpgsqlParameter<Guid[]>("sessions", latest.Select(c => c.SessionId).ToArray()));
                seed.Parameters.Add(new NpgsqlParameter<Guid[]>("contributors", latest.Select(c => c.ContributorId).ToArray()));
                seed.Parameters.Add(new NpgsqlParameter<Guid[]>("jobs", latest.Select(c => c.JobId).ToArray()));
                await using var reader = await seed.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var row = new EarningsAccrualRow
                    {
                        SessionId = reader.GetGuid(0), ContributorId = reader.GetGuid(1), JobId = reader.GetGuid(2), Currency = reader.GetString(3),
                        HourlyRateMinor = reader.GetInt64(4), PlatformFeeBp = reader.GetInt32(5), SupplierFeeBp = reader.GetInt32(6),
                        SupplierOrganisationId = reader.IsDBNull(7) ? null : reader.GetGuid(7), ActiveMsTotal = reader.GetInt64(8),
                        AccruedMinor = reader.GetInt64(9), PlatformFeeMinor = reader.GetInt64(10), SupplierFeeMinor = reader.GetInt64(11),
                    };
                    rows[row.SessionId] = row;
                }
            }

            var results = new Dictionary<Guid, AccrualResult>(latest.Count);
            var changed = new List<(EarningsAccrualRow Row, AccrualTotals Totals)>();
            var postings = new List<LedgerPosting>();
            foreach (var checkpoint in latest)
            {
                if (!rows.TryGetValue(checkpoint.SessionId, out var row))
                {
                    throw new InvalidOperationException($"Session {checkpoint.SessionId}: job {checkpoint.JobId} does not exist.");
                }
                if (row.ContributorId != checkpoint.ContributorId || row.JobId != checkpoint.JobId)
                {
                    throw new InvalidOperationException($"Session {checkpoint.SessionId} belongs to another contributor or job.");
                }
                var before = new AccrualTotals(row.ActiveMsTotal, row.AccruedMinor, row.PlatformFeeMinor, row.SupplierFeeMinor);
                var after = PayCalculator.Advance(before, checkpoint.ActiveMsTotal, row.HourlyRateMinor, row.PlatformFeeBp,
                    row.SupplierOrganisationId is null ? 0 : row.SupplierFeeBp);
                if (after is null)
                {
                    results[row.SessionId] = new AccrualResult(row.SessionId, new Money(row.AccruedMinor, row.Currency), 0);
                    continue;
                }
                changed.Add((row, after));
                var posting = Posting(row, before, after);
                if (posting is not null)
                {
                    postings.Add(posting);
                }
                results[row.SessionId] = new AccrualResult(row.SessionId, new Money(after.AccruedMinor, row.Currency), after.AccruedMinor - before.AccruedMinor);
            }

            if (changed.Count > 0)
            {
                await using var update = await db.CommandAsync(UpdateSql, ct);
                update.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
                update.Parameters.Add(new NpgsqlParameter<Guid[]>("sessions", changed.Select(c => c.Row.SessionId).ToArray()));
                update.Parameters.Add(new NpgsqlParameter<long[]>("ms", changed.Select(c => c.Totals.ActiveMs).ToArray()));
                update.Parameters.Add(new NpgsqlParameter<long[]>("accrued", changed.Select(c => c.Totals.AccruedMinor).ToArray()));
                update.Parameters.Add(new NpgsqlParameter<long[]>("platform_fees", changed.Select(c => c.Totals.PlatformFeeMinor).ToArray()));
                update.Parameters.Add(new NpgsqlParameter<long[]>("supplier_fees", changed.Select(c => c.Totals.SupplierFeeMinor).ToArray()));
                await update.ExecuteNonQueryAsync(ct);
                // One checkpoint keeps its own ledger transaction; a bulk call posts one transaction netted per account, so that
                // 100,000 sessions cost 100,000 payable entries rather than 100,000 transactions of four.
                await LedgerWriter.PostManyAsync(db, postings.Count <= 1 ? postings : [Net(postings)], now, ct);
            }
            return (IReadOnlyList<AccrualResult>)checkpoints.Select(c => results[c.SessionId]).ToList();
        }, ct);
    }

    private static LedgerPosting Net(List<LedgerPosting> postings) =>
        new(Guid.CreateVersion7(), LedgerTransactionKind.Accrual, $"accruals of {postings.Count} session checkpoints", $"accruals:{Guid.CreateVersion7()}",
            postings.SelectMany(p => p.Lines).GroupBy(l => l.Account).Select(g => new LedgerLine(g.Key, g.Sum(l => l.AmountMinor))).Where(l => l.AmountMinor != 0).ToList());

    private static LedgerPosting? Posting(EarningsAccrualRow row, AccrualTotals before, AccrualTotals after)
    {
        var pay = after.AccruedMinor - before.AccruedMinor;
        var platformFee = after.PlatformFeeMinor - before.PlatformFeeMinor;
        var supplierFee = after.SupplierFeeMinor - before.SupplierFeeMinor;
        var total = pay + platformFee + supplierFee;
        if (total == 0)
        {
            return null;
        }
        var lines = new List<LedgerLine>(4) { new(AccountRef.Escrow(row.JobId, row.Currency), -total) };
        if (pay > 0)
        {
            lines.Add(new LedgerLine(AccountRef.Payable(row.ContributorId, row.Currency), pay));
        }
        if (platformFee > 0)
        {
            lines.Add(new LedgerLine(AccountRef.PlatformFee(row.Currency), platformFee));
        }
        if (supplierFee > 0)
        {
            lines.Add(new LedgerLine(AccountRef.SupplierFee(row.SupplierOrganisationId!.Value, row.Currency), supplierFee));
        }
        // The key names the cumulative time it brings the session to, so the same checkpoint can never post twice.
        return new LedgerPosting(Guid.CreateVersion7(), LedgerTransactionKind.Accrual, $"session {row.SessionId} job {row.JobId}",
            $"accrual:{row.SessionId}:{after.ActiveMs}", lines);
    }
}
