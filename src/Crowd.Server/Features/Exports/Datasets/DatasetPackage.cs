using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Exports.Datasets;

public enum DatasetPackageState
{
    Pending = 0,
    Building = 1,
    Ready = 2,
    Failed = 3,
    Expired = 4,
}

/// <summary>
/// A dataset export packed as one ZIP for a browser to download: the signed files, the published keys and the clips that
/// are still live. Built in the background with its progress here; the file is deleted when the download time is over.
/// </summary>
public sealed class DatasetPackage
{
    public Guid ExportId { get; set; }
    public Guid OrganisationId { get; set; }
    public Guid RequestedByUserId { get; set; }
    public DatasetPackageState State { get; set; }
    public int ClipsDone { get; set; }
    public int ClipsTotal { get; set; }
    public long SizeBytes { get; set; }
    public string? FileName { get; set; }
    /// <summary>The node building it; with <see cref="HeartbeatAt"/>, how a build abandoned by a stopped node is found.</summary>
    public string? Node { get; set; }
    public string? Failure { get; set; }
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset? HeartbeatAt { get; set; }
    public DateTimeOffset? ReadyAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }

    public int Percent => ClipsTotal == 0 ? (State == DatasetPackageState.Ready ? 100 : 0) : (int)(100L * ClipsDone / ClipsTotal);
}

internal sealed class DatasetPackageConfiguration : IEntityTypeConfiguration<DatasetPackage>
{
    public void Configure(EntityTypeBuilder<DatasetPackage> e)
    {
        e.ToTable("dataset_packages", t => t.HasCheckConstraint("ck_dataset_packages_progress", "clips_done >= 0 AND clips_done <= clips_total"));
        e.HasKey(x => x.ExportId);
        e.Property(x => x.FileName).HasMaxLength(200);
        e.Property(x => x.Node).HasMaxLength(200);
        e.Property(x => x.Failure).HasMaxLength(500);
        e.Ignore(x => x.Percent);
        e.HasIndex(x => x.OrganisationId);
        e.HasIndex(x => x.State);
        e.HasOne<DatasetExport>().WithOne().HasForeignKey<DatasetPackage>(x => x.ExportId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<Accounts.Organisation>().WithMany().HasForeignKey(x => x.OrganisationId).OnDelete(DeleteBehavior.Restrict);
    }
}
