using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Recording.Consent;

public enum GateOutcome
{
    Open,
    JobNotOpen,
    NeedsConsent,
}

/// <summary>Nobody records for a job without a live consent to the job's current terms.</summary>
public sealed class ConsentGate(CrowdDb db, TimeProvider clock)
{
    public async Task<(GateOutcome Outcome, Job? Job)> CheckAsync(Guid jobId, Guid contributorId, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId, ct);
        if (job is null || job.Status != JobStatus.Published || !await JobFunding.IsLiveAsync(db, jobId, ct))
        {
            return (GateOutcome.JobNotOpen, job);
        }
        var consented = await db.Consents.AnyAsync(c => c.JobId == jobId && c.JobVersion == job.Version
            && c.ContributorId == contributorId && c.WithdrawnAt == null, ct);
        return (consented ? GateOutcome.Open : GateOutcome.NeedsConsent, job);
    }

    /// <summary>Records consent to the job's current published terms; giving it twice keeps the first record.</summary>
    public async Task<bool> GiveAsync(Guid jobId, Guid contributorId, CancellationToken ct)
    {
        var version = await db.Jobs.Where(j => j.Id == jobId && j.Status == JobStatus.Published)
            .Join(db.JobVersions, j => new { j.Id, j.Version }, v => new { Id = v.JobId, v.Version }, (_, v) => v)
            .SingleOrDefaultAsync(ct);
        if (version is null)
        {
            return false;
        }
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO consents (id, job_id, job_version, contributor_id, terms_sha256, given_at, voice_cloning)
            VALUES ({Guid.CreateVersion7()}, {jobId}, {version.Version}, {contributorId}, {version.TermsSha256}, {clock.GetUtcNow()}, false)
            ON CONFLICT (job_id, job_version, contributor_id) DO UPDATE SET withdrawn_at = NULL, given_at = EXCLUDED.given_at
            WHERE consents.withdrawn_at IS NOT NULL
            """, ct);
        return true;
    }
}
