using Crowd.Server.Features.Jobs;
using Microsoft.EntityFrameworkCore;

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

public static class JobFundingModel
{
    /// <summary>Mirrors Migrations/0095_job_funding_settings.sql.</summary>
    public static void MapJobFunding(this ModelBuilder builder) =>
        builder.Entity<JobFundingSettings>(e =>
        {
            e.ToTable("job_funding_settings");
            e.HasKey(s => s.JobId);
            e.Property(s => s.PaymentReference).HasMaxLength(Escrow.PaymentReference.MaxLength);
            e.HasIndex(s => s.PaymentReference).IsUnique();
            e.HasOne<Job>().WithOne().HasForeignKey<JobFundingSettings>(s => s.JobId).OnDelete(DeleteBehavior.Cascade);
        });
}
