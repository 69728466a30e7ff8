using Crowd.Server.Features.Audit;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Crowd.Server.Infrastructure.Scheduling;

namespace Crowd.Server.Features.Reviews;

/// <summary>A requester who does not review in time does not hold up the contributor: the clip is accepted.</summary>
public sealed class AutoAccept(CrowdDb db, AuditLog audit, TimeProvider clock, IOptions<CrowdOptions> options)
{
    private const int Batch = 500;

    /// <summary>Accepts every clip still waiting after the window; returns how many.</summary>
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var days = options.Value.Reviews.AutoAcceptDays;
        var now = clock.GetUtcNow();
        var cutoff = now.AddDays(-days);
        var total = 0;
        while (true)
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            // SKIP LOCKED: a clip a requester is deciding right now is left to them.
            var accepted = await db.Database.SqlQuery<Guid>($"""
                UPDATE clips SET review_status = {(int)ClipReview.Accepted}, reviewed_at = {now}, reviewed_by_kind = 'system', reviewed_by = NULL
                WHERE id IN (SELECT id FROM clips
                             WHERE review_status = {(int)ClipReview.Waiting} AND withdrawn_at IS NULL AND created_at <= {cutoff}
                             ORDER BY created_at LIMIT {Batch} FOR UPDATE SKIP LOCKED)
                RETURNING id AS "Value"
                """).ToListAsync(ct);
            foreach (var id in accepted)
            {
                await audit.AppendAsync(AuditEvent.BySystem("review.auto_accepted", "clip", id.ToString(), $"not reviewed within {days} days"), ct);
            }
            await tx.CommitAsync(ct);
            total += accepted.Count;
            if (accepted.Count < Batch)
            {
                return total;
            }
        }
    }
}

/// <summary>The scheduled run; the work is in <see cref="AutoAccept"/>.</summary>
public sealed class AutoAcceptJob(AutoAccept autoAccept, ILogger<AutoAcceptJob> logger) : IScheduledJob
{
    public const string Name = "reviews-auto-accept";

    public async Task RunAsync(DateTimeOffset scheduledFor, CancellationToken ct)
    {
        var accepted = await autoAccept.RunAsync(ct);
        if (accepted > 0)
        {
            logger.LogInformation("Auto-accepted {Count} clips not reviewed within the window", accepted);
        }
    }
}
