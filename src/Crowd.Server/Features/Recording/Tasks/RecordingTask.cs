using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Recording.Tasks;

/// <summary>
/// One take slot of a job's prompt: a prompt needing three takes has slots 0, 1 and 2, so three speakers can record it at
/// once. Held by at most one worker session at a time, until its claim expires.
/// </summary>
public sealed class RecordingTask
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public Guid PromptId { get; set; }
    public int Ordinal { get; set; }
    public int Slot { get; set; }
    public int TakesNeeded { get; set; }
    public int AcceptedTakes { get; set; }
    public Guid? ClaimedBySessionId { get; set; }
    public DateTimeOffset? ClaimExpiresAt { get; set; }
}

/// <summary>How many takes one contributor has given to one job: the per-speaker cap is checked against it under a row lock.</summary>
public sealed class RecordingSpeaker
{
    public Guid JobId { get; set; }
    public Guid ContributorId { get; set; }
    public int AcceptedTakes { get; set; }
}

internal sealed class RecordingTaskConfiguration : IEntityTypeConfiguration<RecordingTask>
{
    public void Configure(EntityTypeBuilder<RecordingTask> e)
    {
        e.ToTable("recording_tasks", t =>
        {
            t.HasCheckConstraint("ck_recording_tasks_quota", "accepted_takes >= 0 AND accepted_takes <= takes_needed");
            t.HasCheckConstraint("ck_recording_tasks_claim", "(claimed_by_session_id IS NULL) = (claim_expires_at IS NULL)");
        });
        e.HasIndex(t => new { t.PromptId, t.Slot }).IsUnique();
        e.HasIndex(t => new { t.JobId, t.Ordinal, t.Slot });
        e.HasIndex(t => t.ClaimedBySessionId);
        e.HasOne<Job>().WithMany().HasForeignKey(t => t.JobId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<Prompt>().WithMany().HasForeignKey(t => t.PromptId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RecordingSpeakerConfiguration : IEntityTypeConfiguration<RecordingSpeaker>
{
    public void Configure(EntityTypeBuilder<RecordingSpeaker> e)
    {
        e.ToTable("recording_speakers");
        e.HasKey(s => new { s.JobId, s.ContributorId });
        e.HasIndex(s => s.ContributorId);
        e.HasOne<Job>().WithMany().HasForeignKey(s => s.JobId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(s => s.ContributorId).OnDelete(DeleteBehavior.Cascade);
    }
}
