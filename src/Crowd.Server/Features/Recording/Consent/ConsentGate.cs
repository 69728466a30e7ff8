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

/// <summary>
/// Nobody records for a job without a live consent to the job's current terms; for someone under 18 it must be one
/// their guardian confirmed.
/// </summary>
public sealed class ConsentGate(CrowdDb db, TimeProvider clock)
{
    public async Task<(GateOutcome Outcome, Job? Job)> CheckAsync(Guid jobId, Guid contributorId, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId, ct);
        if (job is null || job.Status != JobStatus.Published || !await JobFunding.IsLiveAsync(db, jobId, ct))
        {
            return (GateOutcome.JobNotOpen, job);
        }
        var consent = await db.Consents
            .Where(c => c.JobId == jobId && c.JobVersion == job.Version && c.ContributorId == contributorId && c.WithdrawnAt == null)
            .Join(db.Users, c => c.ContributorId, u => u.Id, (c, u) => new { c.GuardianConsentId, u.DateOfBirth })
            .FirstOrDefaultAsync(ct);
        var open = consent is not null && (consent.GuardianConsentId is not null
            || ConsentRules.GroupOn(consent.DateOfBirth, DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime)) == AgeGroup.Adult);
        return (open ? GateOutcome.Open : GateOutcome.NeedsConsent, job);
    }

    /// <summary>Whether the job's terms are still the version a session was opened under; a newer version stops that session's work.</summary>
    public Task<bool> TermsStillAsync(Guid jobId, int version, CancellationToken ct) =>
        db.Jobs.AnyAsync(j => j.Id == jobId && j.Version == version, ct);
}
