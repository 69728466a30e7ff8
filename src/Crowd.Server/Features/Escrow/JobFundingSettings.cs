using Crowd.Server.Features.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Escrow;

/// <summary>How a requester funds one job (migration 0095).</summary>
public sealed class JobFundingSettings
{
    public Guid JobId { get; set; }
    /// <summary>The <see cref="PaymentReference"/> a bank transfer for this job carries; given when first shown.</summary>
    public string? PaymentReference { get; set; }
    /// <summary>Publish the job as soon as its escrow covers the budget.</summary>
    public bool AutoPublish { get; set; }
    /// <summary>When the requester was told the escrow covers the budget; they are told once.</summary>
    public DateTimeOffset? FundedNoticeAt { get; set; }
}

internal sealed class JobFundingSettingsConfiguration : IEntityTypeConfiguration<JobFundingSettings>
{
    public void Configure(EntityTypeBuilder<JobFundingSettings> e)
    {
        e.ToTable("job_funding_settings");
        e.HasKey(s => s.JobId);
        e.Property(s => s.PaymentReference).HasMaxLength(Escrow.PaymentReference.MaxLength);
        e.HasIndex(s => s.PaymentReference).IsUnique();
        e.HasOne<Job>().WithOne().HasForeignKey<JobFundingSettings>(s => s.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
