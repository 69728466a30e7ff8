using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Escrow;

/// <summary>How the requester can fund one job, as its page shows it.</summary>
/// <param name="Returned">What brought the requester back: <c>card-paid</c>, <c>card-cancelled</c>, <c>card-failed</c>.</param>
public sealed record FundingPanel(Guid JobId, JobStatus Status, FundingStatus Funding, Money Missing, string? PaymentReference, bool CardOffered,
    BankAccountOptions Bank, bool AutoPublish, string? Returned);

public sealed class FundingPanels(CrowdDb db, BankTransfers transfers, CardCheckout card, IOptions<CrowdOptions> options)
{
    /// <summary>Null for a job without a budget: there is nothing to fund yet.</summary>
    public async Task<FundingPanel?> ForJobAsync(Job job, string? returned, CancellationToken ct = default)
    {
        if (job.Status == JobStatus.Closed || await JobFunding.StatusAsync(db, job.Id, ct) is not { Budget.Minor: > 0 } funding)
        {
            return null;
        }
        var reference = funding.Covered ? null : await transfers.ReferenceForAsync(job.Id, ct);
        var autoPublish = await db.Set<JobFundingSettings>().Where(s => s.JobId == job.Id).Select(s => s.AutoPublish).FirstOrDefaultAsync(ct);
        return new FundingPanel(job.Id, job.Status, funding, BankTransfers.Missing(funding), reference, card.Offered, options.Value.Funding.Bank, autoPublish,
            returned is "card-paid" or "card-cancelled" or "card-failed" ? returned : null);
    }

    public async Task SetAutoPublishAsync(Guid jobId, bool on, CancellationToken ct = default) =>
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO job_funding_settings (job_id, auto_publish) VALUES ({jobId}, {on})
            ON CONFLICT (job_id) DO UPDATE SET auto_publish = excluded.auto_publish
            """, ct);
}
