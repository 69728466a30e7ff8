using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Retention;

public enum RetentionLimit
{
    /// <summary>The job's retention period, counted from the day the clip was recorded.</summary>
    JobRetention,
    /// <summary>Three years after the contributor's last interaction with the platform.</summary>
    Inactivity,
}

/// <summary>
/// When a clip's audio must be destroyed: its job's retention after it was recorded, or three years after the
/// contributor's last interaction, whichever comes first. "Last interaction" is the latest of what the platform keeps:
/// sign-up, activity in a working session (recording, listening back, mic set-up), a recorded clip, a consent given or
/// withdrawn. (RetentionService's query computes the same in SQL; a test keeps the two in step.)
/// </summary>
public static class RetentionRule
{
    public const int InactivityYears = 3;

    public static (DateTimeOffset At, RetentionLimit Limit) DestroyAfter(DateTimeOffset recordedAt, int retentionDays, DateTimeOffset lastInteraction)
    {
        var byJob = recordedAt.AddDays(retentionDays);
        var byInactivity = lastInteraction.ToUniversalTime().AddYears(InactivityYears);
        return byJob <= byInactivity ? (byJob, RetentionLimit.JobRetention) : (byInactivity, RetentionLimit.Inactivity);
    }

    /// <summary>
    /// The same definition as the retention query (the database's <c>crowd_last_interaction</c>, Migrations/0130), for
    /// one contributor.
    /// </summary>
    public static async Task<DateTimeOffset> LastInteractionAsync(CrowdDb db, Guid contributorId, CancellationToken ct) =>
        await db.Database.SqlQuery<DateTimeOffset>($"""SELECT crowd_last_interaction({contributorId}) AS "Value" """).SingleAsync(ct);
}
