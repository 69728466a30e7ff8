using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Notifications;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Escrow;

/// <summary>
/// What follows money arriving in a draft job's escrow: once it covers the budget, the requester is told, once, on their
/// pages and through their notifications; a job whose requester asked for it is published at once.
/// </summary>
public sealed class FundedJobs(CrowdDb db, JobService jobs, Notifications.Notifications notifications, TimeProvider time, ILogger<FundedJobs> logger)
{
    public const string FundedMessage = "Funded: the escrow covers the budget. Publish the job when you are ready.";
    public const string PublishedMessage = "Funded and published: the escrow covers the budget and the job is on the job board.";
    public const string NotPublishedMessage = "Funded, but the job could not be published automatically. Open it to see what is missing, then publish it.";

    /// <summary>Call after funding was recorded, in the same transaction.</summary>
    public async Task AfterFundingAsync(Guid jobId, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct);
        if (job is not { Status: JobStatus.Draft } || await JobFunding.StatusAsync(db, jobId, ct) is not { Covered: true } funding)
        {
            return;
        }
        var now = time.GetUtcNow();
        // The first funding that covers the budget claims the notice; a later one (or a redelivered event) finds it taken.
        var claimed = await db.Database.SqlQuery<bool>($"""
            INSERT INTO job_funding_settings (job_id, auto_publish, funded_notice_at) VALUES ({jobId}, false, {now})
            ON CONFLICT (job_id) DO UPDATE SET funded_notice_at = excluded.funded_notice_at WHERE job_funding_settings.funded_notice_at IS NULL
            RETURNING auto_publish AS "Value"
            """).ToListAsync(ct);
        if (claimed.Count == 0)
        {
            return;
        }
        var published = claimed[0] ? (await jobs.PublishAsync(job.OrganisationId, jobId, ct)).Kind == JobOutcomeKind.Ok : (bool?)null;
        var message = published switch { true => PublishedMessage, false => NotPublishedMessage, null => FundedMessage };
        db.Add(new EscrowNotice { Id = Guid.CreateVersion7(), JobId = jobId, OrganisationId = job.OrganisationId, Message = message, CreatedAt = now });
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Job {JobId} is funded ({Escrow} of {Budget}); auto-publish: {Published}", jobId, funding.Escrow, funding.Budget, published);

        await notifications.NotifyAsync(job.CreatedByUserId, NotificationKind.JobFunded, new NotificationData
        {
            JobId = job.Id,
            JobTitle = job.Terms.Title,
            Amount = funding.Escrow,
            Total = funding.Budget,
            Code = published switch { true => "published", false => "not-published", null => null },
        }, ct);
    }
}
