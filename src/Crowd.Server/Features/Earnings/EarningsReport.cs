using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Earnings;

/// <summary>
/// One contributor's time and pay on one job. The effective rate is over ALL their active time on the job (set-up,
/// listening back and rejected takes included), rounded down, and is never below the job's rate.
/// </summary>
public sealed record JobEarnings(Guid JobId, string JobTitle, long ActiveMs, Money HourlyRate, Money Accrued)
{
    public decimal Hours => ActiveMs / (decimal)PayCalculator.MsPerHour;
    public Money? EffectiveHourlyRate => PayCalculator.EffectiveHourlyRate(Accrued.Minor, ActiveMs) is { } rate ? new Money(rate, Accrued.Currency) : null;
}

public sealed record CurrencyTotals(string Currency, Money Accrued, Money Paid, Money InFlight, Money Payable);

public sealed record ContributorEarnings(IReadOnlyList<JobEarnings> Jobs, IReadOnlyList<CurrencyTotals> Totals, IReadOnlyList<Payout> RecentPayouts);

/// <summary>A job's pay over all its contributors: what the requester sees (no single person's figures).</summary>
public sealed record JobPayReport(Guid JobId, int Contributors, long ActiveMs, Money Accrued, Money? EffectiveHourlyRate);

public static class EarningsReport
{
    public static async Task<JobPayReport> ForJobAsync(CrowdDb db, Guid jobId, string currency, CancellationToken ct = default)
    {
        var rows = await db.Set<EarningsAccrualRow>().AsNoTracking().Where(a => a.JobId == jobId)
            .GroupBy(a => a.ContributorId).Select(g => new { Ms = g.Sum(a => a.ActiveMsTotal), Accrued = g.Sum(a => a.AccruedMinor) }).ToListAsync(ct);
        var ms = rows.Sum(r => r.Ms);
        var accrued = rows.Sum(r => r.Accrued);
        // The lowest per-contributor effective rate: the one the floor promise is about.
        var lowest = rows.Where(r => r.Ms > 0).Select(r => PayCalculator.EffectiveHourlyRate(r.Accrued, r.Ms)!.Value).DefaultIfEmpty().Min();
        return new JobPayReport(jobId, rows.Count, ms, new Money(accrued, currency), rows.Any(r => r.Ms > 0) ? new Money(lowest, currency) : null);
    }

    public static async Task<ContributorEarnings> ForContributorAsync(CrowdDb db, Guid contributorId, CancellationToken ct = default)
    {
        var jobs = await db.Set<EarningsAccrualRow>().AsNoTracking().Where(a => a.ContributorId == contributorId)
            .GroupBy(a => new { a.JobId, a.Currency })
            .Select(g => new { g.Key.JobId, g.Key.Currency, Ms = g.Sum(a => a.ActiveMsTotal), Accrued = g.Sum(a => a.AccruedMinor), Rate = g.Max(a => a.HourlyRateMinor) })
            .Join(db.Jobs, x => x.JobId, j => j.Id, (x, j) => new { x.JobId, j.Terms.Title, x.Currency, x.Ms, x.Accrued, x.Rate })
            .ToListAsync(ct);
        var payouts = await db.Set<Payout>().AsNoTracking().Where(p => p.ContributorId == contributorId).OrderByDescending(p => p.CreatedAt).ToListAsync(ct);
        var currencies = jobs.Select(j => j.Currency).Concat(payouts.Select(p => p.Currency)).Distinct().Order(StringComparer.Ordinal);
        var totals = new List<CurrencyTotals>();
        foreach (var currency in currencies)
        {
            var payable = await LedgerQueries.BalanceAsync(db, AccountRef.Payable(contributorId, currency), ct);
            totals.Add(new CurrencyTotals(currency,
                new Money(jobs.Where(j => j.Currency == currency).Sum(j => j.Accrued), currency),
                new Money(payouts.Where(p => p.Currency == currency && p.State == PayoutState.Settled).Sum(p => p.AmountMinor), currency),
                new Money(payouts.Where(p => p.Currency == currency && p.State is PayoutState.Created or PayoutState.Sending or PayoutState.Sent).Sum(p => p.AmountMinor), currency),
                payable));
        }
        return new ContributorEarnings(
            jobs.Select(j => new JobEarnings(j.JobId, j.Title, j.Ms, new Money(j.Rate, j.Currency), new Money(j.Accrued, j.Currency))).ToList(),
            totals, payouts.Take(20).ToList());
    }
}
