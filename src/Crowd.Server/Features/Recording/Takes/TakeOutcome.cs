using Crowd.Audio.Quality;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Recording.Takes;

/// <summary>
/// One take the live check judged, passed or not. Failed takes keep no audio and no clip; this row is all that is left of
/// them, so that a requester can see why takes fail and how the pass rate moves.
/// </summary>
public sealed class TakeOutcome
{
    public Guid TakeId { get; set; }
    public Guid JobId { get; set; }
    public Guid SessionId { get; set; }
    public Guid ContributorId { get; set; }
    public DateTimeOffset JudgedAt { get; set; }
    public bool Passed { get; set; }
    /// <summary>The <see cref="QualityIssues.Code"/> of each failed check; empty when the take passed.</summary>
    public string[] Issues { get; set; } = [];
}

public static class TakeOutcomes
{
    /// <summary>Records a verdict; judging the same take again (a retried call) records nothing new.</summary>
    public static Task<int> RecordAsync(CrowdDb db, Guid takeId, Guid jobId, Guid sessionId, Guid contributorId, Verdict verdict,
        DateTimeOffset judgedAt, CancellationToken ct)
    {
        var issues = verdict.Codes.ToArray();
        return db.Database.ExecuteSqlAsync($"""
            INSERT INTO take_outcomes (take_id, job_id, session_id, contributor_id, judged_at, passed, issues)
            VALUES ({takeId}, {jobId}, {sessionId}, {contributorId}, {judgedAt}, {verdict.Passed}, {issues})
            ON CONFLICT (take_id) DO NOTHING
            """, ct);
    }
}

internal sealed class TakeOutcomeConfiguration : IEntityTypeConfiguration<TakeOutcome>
{
    public void Configure(EntityTypeBuilder<TakeOutcome> e)
    {
        e.ToTable("take_outcomes", t => t.HasCheckConstraint("ck_take_outcomes_issues", "passed = (cardinality(issues) = 0)"));
        e.HasKey(o => o.TakeId);
        e.HasIndex(o => new { o.JobId, o.JudgedAt });
        e.HasIndex(o => o.ContributorId);
        e.HasOne<Job>().WithMany().HasForeignKey(o => o.JobId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(o => o.ContributorId).OnDelete(DeleteBehavior.Cascade);
    }
}
