using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Exports.Contributor;

public enum ContributorExportState
{
    Pending = 0,
    Building = 1,
    Ready = 2,
    Failed = 3,
    Expired = 4,
}

/// <summary>A contributor's request for a copy of their own data: prepared in the background, downloadable for a limited time.</summary>
public sealed class ContributorExport
{
    public Guid Id { get; set; }
    public Guid ContributorId { get; set; }
    public ContributorExportState State { get; set; }
    /// <summary>Progress: recordings and data files written so far, of the total.</summary>
    public int ItemsDone { get; set; }
    public int ItemsTotal { get; set; }
    /// <summary>The size of the ZIP when it was prepared; each download is written afresh from the data as it stands then.</summary>
    public long SizeBytes { get; set; }
    /// <summary>The node building it; with <see cref="HeartbeatAt"/>, how a build abandoned by a crashed node is found.</summary>
    public string? Node { get; set; }
    public string? Failure { get; set; }
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset? HeartbeatAt { get; set; }
    public DateTimeOffset? ReadyAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }

    public int Percent => ItemsTotal == 0 ? 0 : (int)(100L * ItemsDone / ItemsTotal);
}

internal sealed class ContributorExportConfiguration : IEntityTypeConfiguration<ContributorExport>
{
    public void Configure(EntityTypeBuilder<ContributorExport> e)
    {
        e.ToTable("contributor_exports", t => t.HasCheckConstraint("ck_contributor_exports_progress", "items_done >= 0 AND items_done <= items_total"));
        e.Property(x => x.Node).HasMaxLength(200);
        e.Property(x => x.Failure).HasMaxLength(500);
        e.Ignore(x => x.Percent);
        e.HasIndex(x => x.ContributorId);
        e.HasIndex(x => x.State);
        e.HasIndex(x => x.ContributorId, "ix_contributor_exports_one_open").IsUnique().HasFilter($"state IN ({(int)ContributorExportState.Pending}, {(int)ContributorExportState.Building})");
        e.HasOne<Accounts.CrowdUser>().WithMany().HasForeignKey(x => x.ContributorId).OnDelete(DeleteBehavior.Cascade);
    }
}
