using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Exports.Datasets;

/// <summary>A dataset an organisation took out of a job: the signed manifest exactly as delivered. Its clips are in clip_recipients.</summary>
public sealed class DatasetExport
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public Guid OrganisationId { get; set; }
    public Guid RequestedByUserId { get; set; }
    public Guid? ApiKeyId { get; set; }
    /// <summary>"speech-recognition" or "voice-cloning".</summary>
    public string DatasetUse { get; set; } = "";
    public int ClipCount { get; set; }
    public long TotalBytes { get; set; }
    public string ManifestJsonl { get; set; } = "";
    public string ManifestTsv { get; set; } = "";
    /// <summary>The text of signature.json: Ed25519 over the metadata files' SHA-256 (HMAC-SHA256 on exports made before).</summary>
    public string Signature { get; set; } = "";
    public string CroissantJson { get; set; } = "";
    public string DatasheetMd { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class DatasetExportConfiguration : IEntityTypeConfiguration<DatasetExport>
{
    public void Configure(EntityTypeBuilder<DatasetExport> e)
    {
        e.ToTable("dataset_exports");
        e.Property(x => x.DatasetUse).HasMaxLength(32);
        e.HasIndex(x => x.JobId);
        e.HasIndex(x => x.OrganisationId);
        e.HasOne<Jobs.Job>().WithMany().HasForeignKey(x => x.JobId).OnDelete(DeleteBehavior.Restrict);
        e.HasOne<Accounts.Organisation>().WithMany().HasForeignKey(x => x.OrganisationId).OnDelete(DeleteBehavior.Restrict);
    }
}
