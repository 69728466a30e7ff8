using Crowd.Server.Features.Recording.Clips;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Withdrawal;

/// <summary>An encrypted clip file to delete once its key is gone; kept until the deletion succeeded.</summary>
public sealed class ClipFileDeletion
{
    public Guid ClipId { get; set; }
    public string StorageKey { get; set; } = "";
    public DateTimeOffset QueuedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
}

internal sealed class ClipFileDeletionConfiguration : IEntityTypeConfiguration<ClipFileDeletion>
{
    public void Configure(EntityTypeBuilder<ClipFileDeletion> e)
    {
        e.ToTable("clip_file_deletions");
        e.HasKey(d => d.ClipId);
        e.Property(d => d.StorageKey).HasMaxLength(200);
        e.Property(d => d.LastError).HasMaxLength(500);
        e.HasIndex(d => d.QueuedAt).HasFilter("deleted_at IS NULL");
        e.HasOne<Clip>().WithMany().HasForeignKey(d => d.ClipId).OnDelete(DeleteBehavior.Cascade);
    }
}
