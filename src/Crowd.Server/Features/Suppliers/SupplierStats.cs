using System.Globalization;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Suppliers;

/// <summary>A published figure set: a month ("2025-03") or "all", all jobs (JobId null) or one job, in one currency.</summary>
public sealed record SupplierStatsResponse(string Period, Guid? JobId, string Currency, int Contributors, decimal HoursRecorded,
    Money PayEarned, int ClipsReviewed, decimal? QualityPassRate);

public sealed record SignupsResponse(string Period, int SignedUp);

/// <summary>
/// The fee on a published cell: for a job with its public rate; for all jobs only when <see cref="FeeDisclosure"/> allows,
/// otherwise null (the month's fee is then the sum of its published jobs' fees).
/// </summary>
public sealed record CellFee(DateOnly Month, string Currency, Guid JobId, Money? Fee, int? RateBp);

public enum StatsRefusal
{
    None,
    /// <summary>Bad input a person can fix (an open month, a malformed month, no currency).</summary>
    Invalid,
    /// <summary>The cell is built from fewer than five people, or publishing it would let someone work out such a cell.</summary>
    Suppressed,
    SupplierSuspended,
}

public sealed record StatsAnswer<T>(T? Value, StatsRefusal Refusal, FieldError? Error = null);

/// <summary>
/// What a supplier may see: aggregates over closed calendar months (UTC), for all jobs or one job, in one currency, each
/// computed once when first asked for after the month ends and frozen from then on; "all time" is the sum of the published
/// monthly cells. See README.md for why this defeats differencing.
/// </summary>
public sealed class SupplierStats(CrowdDb db, TimeProvider clock)
{
    public static readonly Guid AllJobs = Guid.Empty;
    public const string AllTime = "all";

    public DateOnly CurrentMonth => MonthOf(clock.GetUtcNow());

    public static DateOnly MonthOf(DateTimeOffset at) => new(at.UtcDateTime.Year, at.UtcDateTime.Month, 1);

    public static string Name(DateOnly month) => month.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>Parses "yyyy-MM"; null input means all time. Only months that have ended can be asked for.</summary>
    public StatsAnswer<DateOnly?> ParseMonth(string? month)
    {
        if (string.IsNullOrWhiteSpace(month) || month.Trim() == AllTime)
        {
            return new(null, StatsRefusal.None);
        }
        if (!DateOnly.TryParseExact(month.Trim() + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            return new(null, StatsRefusal.Invalid, new FieldError("month", "Write the month as year-month, like 2025-03, or leave it out for all time."));
        }
        if (parsed >= CurrentMonth)
        {
            return new(null, StatsRefusal.Invalid, new FieldError("month",
                "Figures for a month are published only after it has ended, so that they never change once seen. Ask for {0} or earlier.",
                Name(CurrentMonth.AddMonths(-1))));
        }
        return new(parsed, StatsRefusal.None);
    }

    public async Task<StatsAnswer<SupplierStatsResponse>> CellAsync(Guid organisationId, Guid? jobId, string? month, string? currency, CancellationToken ct)
    {
        if (await SupplierAttributions.IsSuspendedAsync(db, organisationId, ct))
        {
            return new(null, StatsRefusal.SupplierSuspended);
        }
        var period = ParseMonth(month);
        if (period.Refusal != StatsRefusal.None)
        {
            return new(null, period.Refusal, period.Error);
        }
        string? cellCurrency;
        if (jobId is { } job)
        {
            // An unknown job and a job none of the supplier's people worked on look the same: suppressed.
            cellCurrency = await db.Jobs.Where(j => j.Id == job).Select(j => j.Terms.Currency).FirstOrDefaultAsync(ct);
            if (cellCurrency is null || (currency is not null && !string.Equals(currency.Trim(), cellCurrency, StringComparison.OrdinalIgnoreCase)))
            {
                return new(null, StatsRefusal.Suppressed);
            }
        }
        else
        {
            cellCurrency = currency?.Trim().ToUpperInvariant();
            if (cellCurrency is null || !Currencies.IsSupported(cellCurrency))
            {
                return new(null, StatsRefusal.Invalid, new FieldError("currency",
                    "Name the currency, like CNY: pay in different currencies is never added up."));
            }
        }

        await EnsureMonthsAsync(organisationId, ct);
        var cellJob = jobId ?? AllJobs;
        var cells = db.Set<SupplierStatCell>().AsNoTracking()
            .Where(c => c.OrganisationId == organisationId && c.Currency == cellCurrency && c.JobId == cellJob);
        CellFigures figures;
        if (period.Value is { } m)
        {
            var cell = await cells.FirstOrDefaultAsync(c => c.Month == m, ct);
            if (cell is null || !cell.Published)
            {
                return new(null, StatsRefusal.Suppressed);
            }
            figures = new CellFigures(cell.Contributors, cell.ActiveMs, cell.PayMinor, cell.ClipsAccepted, cell.ClipsReviewed);
        }
        else
        {
            var published = await cells.Where(c => c.Published).ToListAsync(ct);
            if (published.Count == 0)
            {
                return new(null, StatsRefusal.Suppressed);
            }
            // People behind the published monthly cells of one scope, counted once however many months they worked in.
            var people = await db.Database.SqlQuery<int>($"""
                SELECT count(DISTINCT a.contributor_id)::int AS "Value"
                FROM earnings_accruals a
                JOIN supplier_stat_cells c ON c.organisation_id = a.supplier_organisation_id AND c.currency = a.currency
                     AND c.month = date_trunc('month', a.created_at AT TIME ZONE 'UTC')::date AND c.job_id = {cellJob} AND c.published
                WHERE a.supplier_organisation_id = {organisationId} AND a.currency = {cellCurrency} AND ({cellJob} = {AllJobs} OR a.job_id = {cellJob})
                """).SingleAsync(ct);
            figures = published.Aggregate(CellFigures.Empty, (sum, c) => sum.Plus(new CellFigures(0, c.ActiveMs, c.PayMinor, c.ClipsAccepted, c.ClipsReviewed)))
                with { Contributors = people };
        }
        return new(Response(period.Value is { } p ? Name(p) : AllTime, jobId, cellCurrency, figures), StatsRefusal.None);
    }

    public async Task<StatsAnswer<SignupsResponse>> SignupsAsync(Guid organisationId, string? month, CancellationToken ct)
    {
        if (await SupplierAttributions.IsSuspendedAsync(db, organisationId, ct))
        {
            return new(null, StatsRefusal.SupplierSuspended);
        }
        var period = ParseMonth(month);
        if (period.Refusal != StatsRefusal.None)
        {
            return new(null, period.Refusal, period.Error);
        }
        await EnsureMonthsAsync(organisationId, ct);
        var months = db.Set<SupplierStatMonth>().AsNoTracking().Where(m => m.OrganisationId == organisationId && m.SignedUpPublished);
        var signedUp = period.Value is { } p
            ? await months.Where(m => m.Month == p).Select(m => (int?)m.SignedUp).FirstOrDefaultAsync(ct)
            : await months.SumAsync(m => (int?)m.SignedUp, ct);
        return signedUp is > 0
            ? new(new SignupsResponse(period.Value is { } q ? Name(q) : AllTime, signedUp.Value), StatsRefusal.None)
            : new(null, StatsRefusal.Suppressed);
    }

    /// <summary>
    /// The published cells of the supplier, for its page. Suppressed cells are left out altogether: listing one, even
    /// without figures, would tell that somebody worked on that job in that month.
    /// </summary>
    public async Task<IReadOnlyList<(DateOnly Month, string Currency, Guid JobId, SupplierStatsResponse Figures)>> TableAsync(Guid organisationId,
        CancellationToken ct)
    {
        await EnsureMonthsAsync(organisationId, ct);
        var cells = await db.Set<SupplierStatCell>().AsNoTracking().Where(c => c.OrganisationId == organisationId && c.Published)
            .OrderByDescending(c => c.Month).ThenBy(c => c.Currency).ThenBy(c => c.JobId).ToListAsync(ct);
        return cells.Select(c => (c.Month, c.Currency, c.JobId, Response(Name(c.Month), c.JobId == AllJobs ? null : c.JobId, c.Currency,
            new CellFigures(c.Contributors, c.ActiveMs, c.PayMinor, c.ClipsAccepted, c.ClipsReviewed)))).ToList();
    }

    /// <summary>The supplier's fee on each published cell, as far as <see cref="FeeDisclosure"/> lets it be shown.</summary>
    public async Task<IReadOnlyList<CellFee>> FeesAsync(Guid organisationId, CancellationToken ct)
    {
        await EnsureMonthsAsync(organisationId, ct);
        var cells = await db.Set<SupplierStatCell>().AsNoTracking().Where(c => c.OrganisationId == organisationId).ToListAsync(ct);
        var jobIds = cells.Select(c => c.JobId).Where(j => j != AllJobs).Distinct().ToList();
        var rates = await db.Set<Escrow.JobBudget>().AsNoTracking().Where(b => jobIds.Contains(b.JobId))
            .ToDictionaryAsync(b => b.JobId, b => b.SupplierFeeBp, ct);
        return cells.Where(c => c.Published).Select(c =>
        {
            if (c.JobId != AllJobs)
            {
                return new CellFee(c.Month, c.Currency, c.JobId, new Money(c.SupplierFeeMinor, c.Currency), rates.GetValueOrDefault(c.JobId));
            }
            var suppressedRates = cells.Where(s => s.Month == c.Month && s.Currency == c.Currency && s.JobId != AllJobs && !s.Published)
                .Select(s => rates.GetValueOrDefault(s.JobId));
            return new CellFee(c.Month, c.Currency, c.JobId,
                FeeDisclosure.AllJobsFeeShowable(suppressedRates) ? new Money(c.SupplierFeeMinor, c.Currency) : null, null);
        }).ToList();
    }

    /// <summary>
    /// The fee over the published months, per currency: each month's all-jobs fee where it can be shown, else the sum of
    /// its published jobs' fees. Never the ledger's balance, which includes the running month and suppressed work.
    /// </summary>
    public static IReadOnlyList<Money> FeeTotals(IReadOnlyList<CellFee> fees) =>
        fees.GroupBy(f => (f.Month, f.Currency))
            .Select(month => month.FirstOrDefault(f => f.JobId == AllJobs)?.Fee is { } whole
                ? whole
                : new Money(month.Where(f => f.JobId != AllJobs).Aggregate(0L, (sum, f) => MoneyMath.Add(sum, f.Fee!.Value.Minor, "supplierFee")), month.Key.Currency))
            .GroupBy(m => m.Currency)
            .Select(c => new Money(c.Aggregate(0L, (sum, m) => MoneyMath.Add(sum, m.Minor, "supplierFee")), c.Key))
            .OrderBy(m => m.Currency, StringComparer.Ordinal).ToList();

    /// <summary>Computes (once) every closed month from the supplier's first attribution or session up to last month.</summary>
    public async Task EnsureMonthsAsync(Guid organisationId, CancellationToken ct)
    {
        var firstSession = await db.Set<Earnings.EarningsAccrualRow>().Where(a => a.SupplierOrganisationId == organisationId)
            .MinAsync(a => (DateTimeOffset?)a.CreatedAt, ct);
        var firstAttribution = await db.Set<SupplierAttribution>().Where(a => a.OrganisationId == organisationId)
            .MinAsync(a => (DateTimeOffset?)a.AttributedAt, ct);
        var first = new[] { firstSession, firstAttribution }.Where(d => d is not null).Min();
        if (first is null)
        {
            return;
        }
        var done = (await db.Set<SupplierStatMonth>().Where(m => m.OrganisationId == organisationId).Select(m => m.Month).ToListAsync(ct)).ToHashSet();
        for (var month = MonthOf(first.Value); month < CurrentMonth; month = month.AddMonths(1))
        {
            if (!done.Contains(month))
            {
                await ComputeMonthAsync(organisationId, month, ct);
            }
        }
    }

    private async Task ComputeMonthAsync(Guid organisationId, DateOnly month, CancellationToken ct)
    {
        var from = new DateTimeOffset(month.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var to = from.AddMonths(1);
        await db.InTransactionAsync(async () =>
        {
            var signedUp = await db.Set<SupplierAttribution>()
                .Where(a => a.OrganisationId == organisationId && a.AttributedAt >= from && a.AttributedAt < to)
                .Select(a => a.ContributorId).Distinct().CountAsync(ct);
            // The marker goes in first: a concurrent request computing the same month waits on it, then finds it done.
            var claimed = await db.Database.ExecuteSqlAsync($"""
                INSERT INTO supplier_stat_months (organisation_id, month, signed_up, signed_up_published, computed_at)
                VALUES ({organisationId}, {month}, {signedUp}, {CellSuppression.Publishable(signedUp)}, {clock.GetUtcNow()}) ON CONFLICT DO NOTHING
                """, ct);
            if (claimed == 0)
            {
                return 0;
            }
            var (accepted, rejected) = ((int)ClipReview.Accepted, (int)ClipReview.Rejected);
            var facts = await db.Database.SqlQuery<SessionFactRow>($"""
                SELECT a.contributor_id AS "ContributorId", a.job_id AS "JobId", a.currency::text AS "Currency", a.active_ms_total AS "ActiveMs",
                       a.accrued_minor AS "PayMinor",
                       (SELECT count(*) FROM clips c WHERE c.session_id = a.session_id AND c.withdrawn_at IS NULL AND c.review_status = {accepted})::int
                           AS "ClipsAccepted",
                       (SELECT count(*) FROM clips c WHERE c.session_id = a.session_id AND c.withdrawn_at IS NULL
                           AND c.review_status IN ({accepted}, {rejected}))::int AS "ClipsReviewed",
                       a.supplier_fee_minor AS "SupplierFeeMinor"
                FROM earnings_accruals a
                WHERE a.supplier_organisation_id = {organisationId} AND a.created_at >= {from} AND a.created_at < {to}
                """).ToListAsync(ct);
            foreach (var currency in facts.GroupBy(f => f.Currency))
            {
                var cells = CellSuppression.Partition(currency.Select(f => f.Fact).ToList());
                db.Add(Row(organisationId, month, currency.Key, AllJobs, cells.AllJobs));
                foreach (var (job, cell) in cells.Jobs)
                {
                    db.Add(Row(organisationId, month, currency.Key, job, cell));
                }
            }
            await db.SaveChangesAsync(ct);
            return facts.Count;
        }, ct);
    }

    private static SupplierStatCell Row(Guid organisationId, DateOnly month, string currency, Guid jobId, Cell cell) => new()
    {
        OrganisationId = organisationId, Month = month, Currency = currency, JobId = jobId, Contributors = cell.Figures.Contributors,
        ActiveMs = cell.Figures.ActiveMs, PayMinor = cell.Figures.PayMinor, ClipsAccepted = cell.Figures.ClipsAccepted,
        ClipsReviewed = cell.Figures.ClipsReviewed, SupplierFeeMinor = cell.Figures.SupplierFeeMinor, Published = cell.Published,
    };

    private static SupplierStatsResponse Response(string period, Guid? jobId, string currency, CellFigures f) => new(
        period, jobId, currency, f.Contributors, Math.Round(f.ActiveMs / (decimal)Earnings.PayCalculator.MsPerHour, 2), new Money(f.PayMinor, currency),
        f.ClipsReviewed, f.ClipsReviewed == 0 ? null : Math.Round((decimal)f.ClipsAccepted / f.ClipsReviewed, 3));
}

internal sealed record SessionFactRow(Guid ContributorId, Guid JobId, string Currency, long ActiveMs, long PayMinor, int ClipsAccepted, int ClipsReviewed,
    long SupplierFeeMinor)
{
    public SessionFact Fact => new(ContributorId, JobId, ActiveMs, PayMinor, ClipsAccepted, ClipsReviewed, SupplierFeeMinor);
}
