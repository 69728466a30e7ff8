using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Features.Recording.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Recording.Clips;

/// <summary>A take that passed the quality gate: its encrypted WAV is in the clip store under <see cref="StorageKey"/>.</summary>
public sealed class Clip
{
    public Guid Id { get; set; }
    public Guid TakeId { get; set; }
    public Guid SessionId { get; set; }
    public Guid TaskId { get; set; }
    public Guid JobId { get; set; }
    public int JobVersion { get; set; }
    public Guid PromptId { get; set; }
    public Guid ContributorId { get; set; }
    public string StorageKey { get; set; } = "";
    /// <summary>SHA-256 of the plaintext WAV, lower-case hex.</summary>
    public string Sha256 { get; set; } = "";
    public long SizeBytes { get; set; }
    /// <summary>The clip's own AES key, wrapped by the master key. Null once destroyed: the audio is then unreadable everywhere.</summary>
    public byte[]? WrappedKey { get; set; }
    public int SampleRate { get; set; }
    public int DurationMs { get; set; }
    public string Metrics { get; set; } = "{}";
    public string Verdict { get; set; } = "{}";
    public string BrowserSettings { get; set; } = "{}";
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The consent the clip was recorded under (its job version and purposes).</summary>
    public Guid? ConsentId { get; set; }
    public ClipReview ReviewStatus { get; set; }
    public DateTimeOffset? ReviewedAt { get; set; }
    /// <summary>Set when the contributor withdraws the clip (or its job): it leaves every queue and future export at once.</summary>
    public DateTimeOffset? WithdrawnAt { get; set; }
    /// <summary>Set when the clip's key was destroyed and its file deleted (withdrawal or retention).</summary>
    public DateTimeOffset? AudioDestroyedAt { get; set; }
    /// <summary>Who set <see cref="ReviewStatus"/>: "requester", "system" (auto-accept), "peers" or "admin" (an appeal reversed).</summary>
    public string? ReviewedByKind { get; set; }
    public Guid? ReviewedBy { get; set; }
}

public enum ClipReview
{
    Waiting = 0,
    Accepted = 1,
    Rejected = 2,
}

/// <summary>An organisation that received the clip in a dataset export; withdrawing the clip sends it a deletion notice.</summary>
public sealed class ClipRecipient
{
    public Guid ClipId { get; set; }
    public Guid OrganisationId { get; set; }
    public Guid ExportId { get; set; }
    public DateTimeOffset ExportedAt { get; set; }
}

internal sealed class ClipConfiguration : IEntityTypeConfiguration<Clip>
{
    public void Configure(EntityTypeBuilder<Clip> e)
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
        e.Property(c => c.ReviewedByKind).HasMaxLength(16);
        e.HasIndex(c => new { c.ReviewStatus, c.CreatedAt }).HasFilter("withdrawn_at IS NULL");
    }
}

internal sealed class ClipRecipientConfiguration : IEntityTypeConfiguration<ClipRecipient>
{
    public void Configure(EntityTypeBuilder<ClipRecipient> e)
    {
        e.ToTable("clip_recipients");
        e.HasKey(r => new { r.ClipId, r.OrganisationId, r.ExportId });
        e.HasIndex(r => r.OrganisationId);
        e.HasOne<Clip>().WithMany().HasForeignKey(r => r.ClipId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<Organisation>().WithMany().HasForeignKey(r => r.OrganisationId).OnDelete(DeleteBehavior.Cascade);
    }
}
