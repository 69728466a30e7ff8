using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Accounts.Speech;

/// <summary>A contributor's own description of their speech: read, saved (validated) and removed.</summary>
public sealed class SpeakerProfiles(CrowdDb db, TimeProvider clock)
{
    public Task<SpeakerProfile?> FindAsync(Guid contributorId, CancellationToken ct) =>
        db.Set<SpeakerProfile>().AsNoTracking().SingleOrDefaultAsync(p => p.ContributorId == contributorId, ct);

    /// <summary>Saves the language and accent; returns the problems instead when either is not acceptable, and saves nothing.</summary>
    public async Task<List<FieldError>> SaveAsync(Guid contributorId, string? language, string? accent, CancellationToken ct)
    {
        var (tag, described, errors) = SpeakerProfileRules.Prepare(language, accent);
        if (errors.Count > 0)
        {
            return errors;
        }
        var now = clock.GetUtcNow();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO speaker_profiles (contributor_id, language, accent, updated_at) VALUES ({contributorId}, {tag}, {described}, {now})
            ON CONFLICT (contributor_id) DO UPDATE SET language = excluded.language, accent = excluded.accent, updated_at = excluded.updated_at
            """, ct);
        return errors;
    }

    public Task RemoveAsync(Guid contributorId, CancellationToken ct) =>
        db.Set<SpeakerProfile>().Where(p => p.ContributorId == contributorId).ExecuteDeleteAsync(ct);
}
