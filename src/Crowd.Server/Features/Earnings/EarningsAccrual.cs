using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Suppliers;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

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
    /// <summary>When the session's supplier fee stopped for good (the contributor detached or the supplier was suspended).</summary>
    public DateTimeOffset? SupplierFeeStoppedAt { get; set; }
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
        // Sorted, so that concurrent bulk calls touch rows in one order and cannot deadlock each other.
        var latest = checkpoints.GroupBy(c => c.SessionId).Select(g => g.MaxBy(c => c.ActiveMsTotal)).OrderBy(c => c.SessionId).ToList();
        var now = time.GetUtcNow();
        return await db.InTransactionAsync(async () =>
        {
            if (latest.Count > 1_000)
            {
                await db.Database.ExecuteSqlAsync($"SET LOCAL work_mem = '64MB'", ct);
            }
            var jobIds = latest.Select(c => c.JobId).Distinct().Order().ToArray();
            // In one order, so that concurrent accruals, fundings and refunds of the same jobs queue rather than deadlock.
            // Last in any transaction that also writes a task's claim or a session's row (a submit, a checkpoint batch, a
            // close): those rows come first, so nobody holds the lock while waiting for a row (see Recording's README).
            foreach (var job in jobIds)
            {
                await EscrowService.LockAsync(db, job, ct);
            }
            var pay = await PayAsync(db, jobIds, ct);
            var suppliers = await SupplierAttributions.ActiveSuppliersAsync(db, latest.Select(c => c.ContributorId).Distinct().ToArray(), ct);
            foreach (var checkpoint in latest.Where(c => !pay.ContainsKey(c.JobId)))
            {
                throw new InvalidOperationException($"Session {checkpoint.SessionId}: job {checkpoint.JobId} does not exist.");
            }

            var results = new Dictionary<Guid, AccrualResult>(latest.Count);
            var postings = new List<LedgerPosting>();
            var fresh = latest.Select(c => (Checkpoint: c, Row: Row(c, pay[c.JobId], suppliers.GetValueOrDefault(c.ContributorId)))).ToList();
            var inserted = await InsertAsync(db, fresh.Select(f => f.Row).ToList(), now, ct);
            foreach (var (checkpoint, row) in fresh.Where(f => inserted.Contains(f.Checkpoint.SessionId)))
            {
                var after = new AccrualTotals(row.ActiveMsTotal, row.AccruedMinor, row.PlatformFeeMinor, row.SupplierFeeMinor);
                if (Posting(row, new AccrualTotals(0, 0, 0, 0), after) is { } posting)
                {
                    postings.Add(posting);
                }
                results[row.SessionId] = new AccrualResult(row.SessionId, new Money(row.AccruedMinor, row.Currency), row.AccruedMinor);
            }

            var seenBefore = latest.Where(c => !inserted.Contains(c.SessionId)).ToList();
            if (seenBefore.Count > 0)
            {
                var rows = await LockAsync(db, seenBefore.Select(c => c.SessionId).ToArray(), ct);
                var changed = new List<(EarningsAccrualRow Row, AccrualTotals Totals, bool FeeStopped)>();
                foreach (var checkpoint in seenBefore)
                {
                    var row = rows[checkpoint.SessionId];
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
                    // The fee follows the contributor's attribution as it is now: once they detach or the supplier is
                    // suspended, the session's fee stays where it was, and never catches up later.
                    var feeStopped = row.SupplierOrganisationId is { } supplier
                        && (row.SupplierFeeStoppedAt is not null || suppliers.GetValueOrDefault(row.ContributorId) != supplier);
                    if (feeStopped)
                    {
                        after = after with { SupplierFeeMinor = before.SupplierFeeMinor };
                    }
                    changed.Add((row, after, feeStopped));
                    if (Posting(row, before, after) is { } posting)
                    {
                        postings.Add(posting);
                    }
                    results[row.SessionId] = new AccrualResult(row.SessionId, new Money(after.AccruedMinor, row.Currency),
                        MoneyMath.Subtract(after.AccruedMinor, before.AccruedMinor, "hourlyRate"));
                }
                await UpdateAsync(db, changed, now, ct);
            }

            // One checkpoint keeps its own ledger transaction; a bulk call posts one transaction netted per account, so that
            // 100,000 sessions cost 100,000 payable entries rather than 100,000 transactions of four.
            var toPost = postings.Count <= 1 ? postings : [Net(postings)];
            if (toPost.Count > 0)
            {
                var escrows = await LedgerQueries.EscrowsAsync(db, jobIds, ct);
                toPost = toPost.Select(p => DrawFromEscrow(p, escrows)).ToList();
            }
            await LedgerWriter.PostManyAsync(db, toPost, now, ct);
            return (IReadOnlyList<AccrualResult>)checkpoints.Select(c => results[c.SessionId]).ToList();
        }, ct);
    }

    /// <summary>What a job pays per hour of active time and the fees on top, as one session is accrued at.</summary>
    private sealed record JobPay(Guid JobId, string Currency, long RateMinor, int PlatformFeeBp, int SupplierFeeBp);

    // The rate is fixed at the session's first checkpoint, and never below the region's floor.
    private static async Task<Dictionary<Guid, JobPay>> PayAsync(CrowdDb db, Guid[] jobIds, CancellationToken ct) =>
        (await db.Database.SqlQuery<JobPay>($"""
            SELECT j.id AS "JobId", j.currency::text AS "Currency",
                   GREATEST(j.hourly_rate_minor, coalesce(GREATEST(f.legal_minimum_minor, f.market_reference_minor), 0)) AS "RateMinor",
                   coalesce(b.platform_fee_bp, 0) AS "PlatformFeeBp", coalesce(b.supplier_fee_bp, 0) AS "SupplierFeeBp"
            FROM jobs j
            LEFT JOIN rate_floors f ON f.region = j.region AND f.currency = j.currency
            LEFT JOIN job_budgets b ON b.job_id = j.id
            WHERE j.id = ANY({jobIds})
            """).ToListAsync(ct)).ToDictionary(p => p.JobId);

    /// <summary>
    /// A session's first checkpoint. Pay comes from time and rate alone; the supplier fee goes to the supplier the contributor
    /// is attributed to now, and unattributed work carries none (its reserve stays in escrow and is refunded at close).
    /// </summary>
    private static EarningsAccrualRow Row(Checkpoint checkpoint, JobPay pay, Guid supplier)
    {
        Guid? supplierId = supplier == Guid.Empty ? null : supplier;
        var supplierFeeBp = supplierId is null ? 0 : pay.SupplierFeeBp;
        var totals = PayCalculator.Advance(new AccrualTotals(0, 0, 0, 0), checkpoint.ActiveMsTotal, pay.RateMinor, pay.PlatformFeeBp,
            supplierFeeBp) ?? new AccrualTotals(0, 0, 0, 0);
        return new EarningsAccrualRow
        {
            SessionId = checkpoint.SessionId, ContributorId = checkpoint.ContributorId, JobId = checkpoint.JobId, Currency = pay.Currency,
            HourlyRateMinor = pay.RateMinor, PlatformFeeBp = pay.PlatformFeeBp, SupplierFeeBp = supplierFeeBp,
            SupplierOrganisationId = supplierId, ActiveMsTotal = totals.ActiveMs, AccruedMinor = totals.AccruedMinor,
            PlatformFeeMinor = totals.PlatformFeeMinor, SupplierFeeMinor = totals.SupplierFeeMinor,
        };
    }

    // A session's first checkpoint inserts its row with its totals already computed; one seen before is updated below.
    private static async Task<HashSet<Guid>> InsertAsync(CrowdDb db, List<EarningsAccrualRow> rows, DateTimeOffset now, CancellationToken ct)
    {
        var sessions = rows.Select(r => r.SessionId).ToArray();
        var contributors = rows.Select(r => r.ContributorId).ToArray();
        var jobs = rows.Select(r => r.JobId).ToArray();
        var currencies = rows.Select(r => r.Currency).ToArray();
        var rates = rows.Select(r => r.HourlyRateMinor).ToArray();
        var platformBps = rows.Select(r => r.PlatformFeeBp).ToArray();
        var supplierBps = rows.Select(r => r.SupplierFeeBp).ToArray();
        var suppliers = rows.Select(r => r.SupplierOrganisationId).ToArray();
        var ms = rows.Select(r => r.ActiveMsTotal).ToArray();
        var accrued = rows.Select(r => r.AccruedMinor).ToArray();
        var platformFees = rows.Select(r => r.PlatformFeeMinor).ToArray();
        var supplierFees = rows.Select(r => r.SupplierFeeMinor).ToArray();
        var inserted = await db.Database.SqlQuery<Guid>($"""
            INSERT INTO earnings_accruals (session_id, contributor_id, job_id, currency, hourly_rate_minor, platform_fee_bp, supplier_fee_bp,
                supplier_organisation_id, active_ms_total, accrued_minor, platform_fee_minor, supplier_fee_minor, created_at, updated_at)
            SELECT i.*, {now}, {now}
            FROM unnest({sessions}, {contributors}, {jobs}, {currencies}, {rates}, {platformBps}, {supplierBps}, {suppliers}, {ms}, {accrued},
                        {platformFees}, {supplierFees})
                AS i(session_id, contributor_id, job_id, currency, rate, platform_bp, supplier_bp, supplier, ms, accrued, platform_fee, supplier_fee)
            ON CONFLICT (session_id) DO NOTHING
            RETURNING session_id AS "Value"
            """).ToListAsync(ct);
        return [.. inserted];
    }

    private static async Task<Dictionary<Guid, EarningsAccrualRow>> LockAsync(CrowdDb db, Guid[] sessions, CancellationToken ct) =>
        (await db.Set<EarningsAccrualRow>()
            .FromSql($"SELECT * FROM earnings_accruals WHERE session_id = ANY({sessions}) ORDER BY session_id FOR UPDATE")
            .AsNoTracking().ToListAsync(ct)).ToDictionary(r => r.SessionId);

    private static async Task UpdateAsync(CrowdDb db, List<(EarningsAccrualRow Row, AccrualTotals Totals, bool FeeStopped)> changed, DateTimeOffset now, CancellationToken ct)
    {
        if (changed.Count == 0)
        {
            return;
        }
        var sessions = changed.Select(c => c.Row.SessionId).ToArray();
        var ms = changed.Select(c => c.Totals.ActiveMs).ToArray();
        var accrued = changed.Select(c => c.Totals.AccruedMinor).ToArray();
        var platformFees = changed.Select(c => c.Totals.PlatformFeeMinor).ToArray();
        var supplierFees = changed.Select(c => c.Totals.SupplierFeeMinor).ToArray();
        var stopped = changed.Select(c => c.FeeStopped).ToArray();
        await db.Database.ExecuteSqlAsync($"""
            UPDATE earnings_accruals a SET active_ms_total = u.ms, accrued_minor = u.accrued, platform_fee_minor = u.platform_fee,
                supplier_fee_minor = u.supplier_fee, updated_at = {now},
                supplier_fee_stopped_at = CASE WHEN u.stopped THEN coalesce(a.supplier_fee_stopped_at, {now}) ELSE a.supplier_fee_stopped_at END
            FROM unnest({sessions}, {ms}, {accrued}, {platformFees}, {supplierFees}, {stopped})
                AS u(session_id, ms, accrued, platform_fee, supplier_fee, stopped)
            WHERE a.session_id = u.session_id
            """, ct);
    }

    private static LedgerPosting Net(List<LedgerPosting> postings) =>
        new(Guid.CreateVersion7(), LedgerTransactionKind.Accrual, $"accruals of {postings.Count} session checkpoints", $"accruals:{Guid.CreateVersion7()}",
            postings.SelectMany(p => p.Lines).GroupBy(l => l.Account)
                .Select(g => new LedgerLine(g.Key, g.Aggregate(0L, (sum, l) => MoneyMath.Add(sum, l.AmountMinor, "amount"))))
                .Where(l => l.AmountMinor != 0).ToList());

    /// <summary>
    /// Each job's cost comes out of its escrow as far as the escrow holds; the platform advances the rest, so that pay for
    /// time is never withheld and the escrow never goes below zero (the database refuses that).
    /// </summary>
    private static LedgerPosting DrawFromEscrow(LedgerPosting posting, Dictionary<Guid, EscrowBalance> escrows)
    {
        var lines = new List<LedgerLine>(posting.Lines.Count + 1);
        foreach (var line in posting.Lines)
        {
            if (line.Account.Kind != LedgerAccountKind.Escrow || line.AmountMinor >= 0)
            {
                lines.Add(line);
                continue;
            }
            var job = line.Account.OwnerId;
            var balance = escrows.GetValueOrDefault(job);
            var (fromEscrow, advanced) = EscrowRules.Draw(balance, -line.AmountMinor);
            escrows[job] = new EscrowBalance(balance.HeldMinor - fromEscrow, balance.AdvancedMinor + advanced);
            if (fromEscrow > 0)
            {
                lines.Add(line with { AmountMinor = -fromEscrow });
            }
            if (advanced > 0)
            {
                lines.Add(new LedgerLine(AccountRef.Advance(job, line.Account.Currency), -advanced));
            }
        }
        return posting with { Lines = lines };
    }

    private static LedgerPosting? Posting(EarningsAccrualRow row, AccrualTotals before, AccrualTotals after)
    {
        var pay = MoneyMath.Subtract(after.AccruedMinor, before.AccruedMinor, "hourlyRate");
        var platformFee = MoneyMath.Subtract(after.PlatformFeeMinor, before.PlatformFeeMinor, "fees");
        var supplierFee = MoneyMath.Subtract(after.SupplierFeeMinor, before.SupplierFeeMinor, "fees");
        var total = MoneyMath.Add(MoneyMath.Add(pay, platformFee, "fees"), supplierFee, "fees");
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

internal sealed class EarningsAccrualRowConfiguration : IEntityTypeConfiguration<EarningsAccrualRow>
{
    public void Configure(EntityTypeBuilder<EarningsAccrualRow> e)
    {
        e.ToTable("earnings_accruals");
        e.HasKey(a => a.SessionId);
        e.Property(a => a.Currency).HasMaxLength(3).IsFixedLength();
        e.HasIndex(a => new { a.ContributorId, a.JobId });
        e.HasOne<Job>().WithMany().HasForeignKey(a => a.JobId).OnDelete(DeleteBehavior.Restrict);
    }
}
