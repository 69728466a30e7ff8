using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Notifications;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Escrow;

/// <summary>A job's money. Escrow is net of what the platform advanced, so it is negative while the requester owes the platform.</summary>
public sealed record FundingStatus(Guid JobId, Money Budget, Money Escrow, Money Spent, Money Remaining, bool Covered, bool Paused, string? PauseReason)
{
    /// <summary>Pay the platform advanced when the escrow ran dry, not yet repaid by a funding.</summary>
    public Money Advanced { get; init; }

    /// <summary>Whole hours of work (at the job's rate, with fees) the escrow still pays for.</summary>
    public long RemainingHours { get; init; }
}

/// <summary>
/// The money gate on jobs. Publishing calls <see cref="CoversBudgetAsync"/>; claiming a task calls <see cref="IsLiveAsync"/>;
/// the session checkpoint calls <see cref="CheckNextHourAsync"/> with the number of people working, which pauses the
/// job (with a notice to the requester) when the escrow cannot pay the next hour of all of them.
/// </summary>
public static class JobFunding
{
    public const string PausedMessage = "Paused: the escrow cannot pay the next hour of everyone working on this job. Add funds to resume it.";
    public const string RefundedMessage = "Refunded: the job is closed and its unused escrow is on its way back to you.";
    public const string RefundFailedMessage = "Refund refused: Stripe could not return the unused escrow to your card, so it is back in the job's escrow. Contact us to have it sent by bank transfer.";
    public const string ResumedMessage = "Resumed: the escrow covers the next hour of work again.";

    public static async Task<FundingStatus?> StatusAsync(CrowdDb db, Guid jobId, CancellationToken ct = default) =>
        (await StatusesAsync(db, [jobId], ct)).GetValueOrDefault(jobId);

    /// <summary>The funding status of each of these jobs that exists, in four queries however many jobs there are.</summary>
    public static async Task<Dictionary<Guid, FundingStatus>> StatusesAsync(CrowdDb db, IReadOnlyCollection<Guid> jobIds, CancellationToken ct = default)
    {
        var ids = jobIds.Distinct().ToArray();
        var jobs = await db.Jobs.AsNoTracking().Where(j => ids.Contains(j.Id)).Select(j => new { j.Id, j.Terms.HourlyRateMinor, j.Terms.Currency }).ToListAsync(ct);
        if (jobs.Count == 0)
        {
            return [];
        }
        var budgets = await db.Set<JobBudget>().AsNoTracking().Where(b => ids.Contains(b.JobId)).ToDictionaryAsync(b => b.JobId, ct);
        // Escrow before spending: an accrual committing between the two reads then counts as not yet drawn from escrow
        // and already spent, which cancels out. Read the other way round it would count twice and take a live job offline.
        var escrows = await LedgerQueries.EscrowsAsync(db, ids, ct);
        var spent = await db.Set<Earnings.EarningsAccrualRow>().Where(a => ids.Contains(a.JobId))
            .GroupBy(a => a.JobId)
            .Select(g => new { JobId = g.Key, Minor = g.Sum(a => a.AccruedMinor + a.PlatformFeeMinor + a.SupplierFeeMinor) })
            .ToDictionaryAsync(x => x.JobId, x => x.Minor, ct);
        return jobs.ToDictionary(j => j.Id, j => Status(j.Id, j.HourlyRateMinor, j.Currency, budgets.GetValueOrDefault(j.Id),
            escrows.GetValueOrDefault(j.Id), spent.GetValueOrDefault(j.Id)));
    }

    private static FundingStatus Status(Guid jobId, long hourlyRateMinor, string currency, JobBudget? budget, EscrowBalance balance, long spent)
    {
        var budgetMinor = budget is null ? 0 : BudgetRules.BudgetMinor(budget.TargetHours, hourlyRateMinor, budget.PlatformFeeBp, budget.SupplierFeeBp);
        var remaining = Math.Max(0, MoneyMath.Subtract(budgetMinor, spent, "budget"));
        var hourCost = BudgetRules.NextHourMinor(1, hourlyRateMinor, budget?.PlatformFeeBp ?? 0, budget?.SupplierFeeBp ?? 0);
        return new FundingStatus(jobId, new Money(budgetMinor, currency), new Money(balance.NetMinor, currency), new Money(spent, currency),
            new Money(remaining, currency), budget is not null && balance.NetMinor >= remaining, budget?.PausedAt is not null, budget?.PauseReason)
        {
            Advanced = new Money(balance.AdvancedMinor, currency),
            RemainingHours = hourCost == 0 ? 0 : Math.Max(0, balance.NetMinor) / hourCost,
        };
    }

    /// <summary>True when the job has a budget and its escrow holds all of it that is not yet spent. Publishing requires this.</summary>
    public static async Task<bool> CoversBudgetAsync(CrowdDb db, Guid jobId, CancellationToken ct = default) =>
        (await StatusAsync(db, jobId, ct))?.Covered == true;

    /// <summary>Published, funded and not paused: contributors may claim work on it.</summary>
    public static async Task<bool> IsLiveAsync(CrowdDb db, Guid jobId, CancellationToken ct = default)
    {
        var published = await db.Jobs.AnyAsync(j => j.Id == jobId && j.Status == JobStatus.Published, ct);
        var status = published ? await StatusAsync(db, jobId, ct) : null;
        return status is { Covered: true, Paused: false };
    }

    /// <summary>The ids among these jobs that are live: published, not paused, and with the unspent budget in escrow.</summary>
    public static async Task<List<Guid>> LiveIdsAsync(CrowdDb db, IQueryable<Job> jobs, CancellationToken ct = default)
    {
        var published = await jobs.Where(j => j.Status == JobStatus.Published).Select(j => j.Id).ToListAsync(ct);
        var statuses = await StatusesAsync(db, published, ct);
        return published.Where(id => statuses.TryGetValue(id, out var s) && s is { Covered: true, Paused: false }).ToList();
    }

    /// <summary>
    /// Pauses the job when its escrow cannot pay the next hour of everyone working (peopleWorking, at least one),
    /// resumes it when it can again; each change leaves a notice for the requester and tells the requesters (and, on a
    /// pause, whoever is recording for it). Returns whether it may continue.
    /// </summary>
    public static async Task<bool> CheckNextHourAsync(CrowdDb db, Notifications.Notifications notifications, Guid jobId, int peopleWorking, TimeProvider time,
        CancellationToken ct = default)
    {
        var job = await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == jobId, ct);
        var budget = await db.Set<JobBudget>().FirstOrDefaultAsync(b => b.JobId == jobId, ct);
        if (budget is null)
        {
            return false;
        }
        var escrow = await LedgerQueries.EscrowAsync(db, jobId, ct);
        var needed = BudgetRules.NextHourMinor(peopleWorking, job.Terms.HourlyRateMinor, budget.PlatformFeeBp, budget.SupplierFeeBp);
        var enough = escrow.NetMinor >= needed;
        var now = time.GetUtcNow();
        if (!enough && budget.PausedAt is null)
        {
            budget.PausedAt = now;
            budget.PauseReason = PausedMessage;
            budget.UpdatedAt = now;
            db.Add(new EscrowNotice { Id = Guid.CreateVersion7(), JobId = jobId, OrganisationId = job.OrganisationId, Message = PausedMessage, CreatedAt = now });
            await db.SaveChangesAsync(ct);
            var about = new NotificationData { JobId = jobId, JobTitle = job.Terms.Title };
            await notifications.NotifyOrganisationAsync(job.OrganisationId, NotificationKind.JobPaused, about, ct);
            var working = await db.WorkerSessions.AsNoTracking().Where(w => w.JobId == jobId && w.ClosedAt == null)
                .Select(w => w.ContributorId).Distinct().ToListAsync(ct);
            await notifications.NotifyManyAsync(NotificationKind.JobPausedMidWork, working.Select(c => new NotificationRecipient(c, about)).ToList(), ct);
        }
        else if (enough && budget.PausedAt is not null)
        {
            budget.PausedAt = null;
            budget.PauseReason = null;
            budget.UpdatedAt = now;
            db.Add(new EscrowNotice { Id = Guid.CreateVersion7(), JobId = jobId, OrganisationId = job.OrganisationId, Message = ResumedMessage, CreatedAt = now });
            await db.SaveChangesAsync(ct);
            await notifications.NotifyOrganisationAsync(job.OrganisationId, NotificationKind.JobResumed, new NotificationData { JobId = jobId, JobTitle = job.Terms.Title }, ct);
        }
        return enough;
    }
}
