using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Recording.Clips;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Reviews;

public enum AppealOutcome
{
    /// <summary>The rejection stands. Only a fraud ground then takes back the clip's pay.</summary>
    Upheld = 1,
    /// <summary>The rejection was wrong: the clip is accepted.</summary>
    Reversed = 2,
}

/// <summary>A clip's rejection, its one appeal and the admin's final decision on that appeal.</summary>
public sealed class ClipRejection
{
    public Guid ClipId { get; set; }
    public RejectionReason Reason { get; set; }
    public string Note { get; set; } = "";
    /// <summary>The requester who rejected it; null when peer validation did.</summary>
    public Guid? RejectedBy { get; set; }
    public DateTimeOffset RejectedAt { get; set; }
    public string? AppealNote { get; set; }
    public DateTimeOffset? AppealedAt { get; set; }
    public AppealOutcome? Outcome { get; set; }
    public Guid? DecidedBy { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
    public string? DecisionNote { get; set; }
    /// <summary>Pay taken back when a fraud ground was upheld or its appeal window passed (minor units of the job's currency).</summary>
    public long? PayReversedMinor { get; set; }
    /// <summary>Fraud grounds only: the end of the appeal window, after which an unappealed rejection takes the clip's pay back.</summary>
    public DateTimeOffset? AppealBy { get; set; }
    /// <summary>When the pay was taken back because the appeal window passed without an appeal.</summary>
    public DateTimeOffset? PayTakenBackAt { get; set; }
}

/// <summary>A reviewer played a clip (its audio was fetched for review); "accept every clip I played" reads these.</summary>
public sealed class ClipPlay
{
    public Guid ClipId { get; set; }
    public Guid ReviewerId { get; set; }
    public DateTimeOffset FirstPlayedAt { get; set; }
}

public sealed class ClipVote
{
    public Guid ClipId { get; set; }
    public Guid VoterId { get; set; }
    public bool Up { get; set; }
    public DateTimeOffset VotedAt { get; set; }
}

/// <summary>A contributor's time validating one job version's clips; accrued like recording time under its own id.</summary>
public sealed class ValidationSession
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public int JobVersion { get; set; }
    public Guid ContributorId { get; set; }
    public long ActiveMs { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset LastActivityAt { get; set; }
}

internal sealed class ClipRejectionConfiguration : IEntityTypeConfiguration<ClipRejection>
{
    public void Configure(EntityTypeBuilder<ClipRejection> e)
    {
        e.ToTable("clip_rejections");
        e.HasKey(r => r.ClipId);
        e.Property(r => r.Note).HasMaxLength(ReviewRules.MaxNoteLength);
        e.Property(r => r.AppealNote).HasMaxLength(ReviewRules.MaxNoteLength);
        e.Property(r => r.DecisionNote).HasMaxLength(ReviewRules.MaxNoteLength);
        e.HasOne<Clip>().WithOne().HasForeignKey<ClipRejection>(r => r.ClipId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(r => r.AppealBy).HasFilter("appeal_by IS NOT NULL AND appealed_at IS NULL AND pay_taken_back_at IS NULL");
    }
}

internal sealed class ClipPlayConfiguration : IEntityTypeConfiguration<ClipPlay>
{
    public void Configure(EntityTypeBuilder<ClipPlay> e)
    {
        e.ToTable("clip_plays");
        e.HasKey(p => new { p.ClipId, p.ReviewerId });
        e.HasIndex(p => p.ReviewerId);
        e.HasOne<Clip>().WithMany().HasForeignKey(p => p.ClipId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(p => p.ReviewerId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ClipVoteConfiguration : IEntityTypeConfiguration<ClipVote>
{
    public void Configure(EntityTypeBuilder<ClipVote> e)
    {
        e.ToTable("clip_votes");
        e.HasKey(v => new { v.ClipId, v.VoterId });
        e.HasIndex(v => v.VoterId);
        e.HasOne<Clip>().WithMany().HasForeignKey(v => v.ClipId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(v => v.VoterId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ValidationSessionConfiguration : IEntityTypeConfiguration<ValidationSession>
{
    public void Configure(EntityTypeBuilder<ValidationSession> e)
    {
        e.ToTable("validation_sessions");
        e.HasIndex(s => new { s.JobId, s.JobVersion, s.ContributorId }).IsUnique();
        e.HasIndex(s => s.ContributorId);
        e.HasOne<Job>().WithMany().HasForeignKey(s => s.JobId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(s => s.ContributorId).OnDelete(DeleteBehavior.Cascade);
    }
}
