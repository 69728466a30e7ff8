using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Features.Recording.Tasks;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Recording;

/// <summary>The recording feature's part of the EF model; it mirrors Migrations/0010_recording.sql, 0011_recording_task_slots.sql, 0030_clip_lifecycle.sql, 0031_consent_texts_and_history.sql and 0085_recording_grains.sql.</summary>
internal static class RecordingModel
{
    public static void MapRecording(this ModelBuilder builder)
    {
        builder.Entity<ConsentRecord>(e =>
        {
            e.ToTable("consents");
            e.Property(c => c.TermsSha256).HasMaxLength(64);
            e.Property(c => c.TextSha256).HasMaxLength(64);
            e.Property(c => c.Signature).HasMaxLength(200);
            e.HasIndex(c => new { c.JobId, c.JobVersion, c.ContributorId }).IsUnique().HasFilter("withdrawn_at IS NULL");
            e.HasIndex(c => c.ContributorId);
            e.HasOne<JobVersion>().WithMany().HasForeignKey(c => new { c.JobId, c.JobVersion }).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<CrowdUser>().WithMany().HasForeignKey(c => c.ContributorId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<StoredConsentText>().WithMany().HasForeignKey(c => c.TextSha256).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<GuardianConsent>().WithMany().HasForeignKey(c => c.GuardianConsentId).OnDelete(DeleteBehavior.Restrict);
        });

        builder.Entity<StoredConsentText>(e =>
        {
            e.ToTable("consent_texts");
            e.HasKey(t => t.Sha256);
            e.Property(t => t.Sha256).HasMaxLength(64);
            e.Property(t => t.Culture).HasMaxLength(16);
        });

        builder.Entity<GuardianConsent>(e =>
        {
            e.ToTable("guardian_consents", t => t.HasCheckConstraint("ck_guardian_consents_confirmed", "(confirmed_at IS NULL) = (guardian_name IS NULL)"));
            e.Property(g => g.TextSha256).HasMaxLength(64);
            e.Property(g => g.MinorSignature).HasMaxLength(200);
            e.Property(g => g.GuardianEmail).HasMaxLength(256);
            e.Property(g => g.TokenSha256).HasMaxLength(64);
            e.Property(g => g.GuardianName).HasMaxLength(200);
            e.HasIndex(g => g.TokenSha256).IsUnique();
            e.HasIndex(g => g.ContributorId);
            e.HasOne<JobVersion>().WithMany().HasForeignKey(g => new { g.JobId, g.JobVersion }).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<CrowdUser>().WithMany().HasForeignKey(g => g.ContributorId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<StoredConsentText>().WithMany().HasForeignKey(g => g.TextSha256).OnDelete(DeleteBehavior.Restrict);
        });

        builder.Entity<Job>(e => e.ToTable(t => t.HasCheckConstraint("ck_jobs_max_takes_per_speaker", "max_takes_per_speaker > 0")));

        builder.Entity<RecordingTask>(e =>
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
        });

        builder.Entity<RecordingSpeaker>(e =>
        {
            e.ToTable("recording_speakers");
            e.HasKey(s => new { s.JobId, s.ContributorId });
            e.HasIndex(s => s.ContributorId);
            e.HasOne<Job>().WithMany().HasForeignKey(s => s.JobId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<CrowdUser>().WithMany().HasForeignKey(s => s.ContributorId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<WorkerSession>(e =>
        {
            e.ToTable("worker_sessions");
            e.Property(s => s.NodeId).HasMaxLength(100);
            e.Property(s => s.RowVersion).IsRowVersion().HasColumnName("xmin").HasColumnType("xid");
            e.HasIndex(s => new { s.JobId, s.ContributorId }).IsUnique().HasFilter("state = 0");
            e.HasIndex(s => s.ContributorId);
            e.HasOne<Job>().WithMany().HasForeignKey(s => s.JobId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<CrowdUser>().WithMany().HasForeignKey(s => s.ContributorId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<Clip>(e =>
        {
            e.ToTable("clips");
            e.Property(c => c.StorageKey).HasMaxLength(200);
            e.Property(c => c.Sha256).HasMaxLength(64);
            e.Property(c => c.Metrics).HasColumnType("jsonb");
            e.Property(c => c.Verdict).HasColumnType("jsonb");
            e.Property(c => c.BrowserSettings).HasColumnType("jsonb");
            e.HasIndex(c => c.TakeId).IsUnique();
            e.HasIndex(c => new { c.PromptId, c.ContributorId }).IsUnique();
            e.HasIndex(c => c.TaskId);
            e.HasIndex(c => c.SessionId);
            e.HasIndex(c => c.ContributorId);
            e.HasIndex(c => new { c.JobId, c.JobVersion });
            e.HasOne<WorkerSession>().WithMany().HasForeignKey(c => c.SessionId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<RecordingTask>().WithMany().HasForeignKey(c => c.TaskId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<JobVersion>().WithMany().HasForeignKey(c => new { c.JobId, c.JobVersion }).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<Prompt>().WithMany().HasForeignKey(c => c.PromptId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<CrowdUser>().WithMany().HasForeignKey(c => c.ContributorId).OnDelete(DeleteBehavior.Restrict);
            e.HasIndex(c => c.ConsentId);
            e.HasIndex(c => new { c.JobId, c.ReviewStatus }).HasFilter("withdrawn_at IS NULL");
            e.HasOne<ConsentRecord>().WithMany().HasForeignKey(c => c.ConsentId).OnDelete(DeleteBehavior.Restrict);
        });

        builder.Entity<ClipRecipient>(e =>
        {
            e.ToTable("clip_recipients");
            e.HasKey(r => new { r.ClipId, r.OrganisationId, r.ExportId });
            e.HasIndex(r => r.OrganisationId);
            e.HasOne<Clip>().WithMany().HasForeignKey(r => r.ClipId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Organisation>().WithMany().HasForeignKey(r => r.OrganisationId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}
