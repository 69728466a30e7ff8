using Crowd.Server.Features.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Escrow;

/// <summary>What a job's escrow must hold before it goes live: target hours × rate plus the disclosed fees.</summary>
public sealed class JobBudget
{
    public Guid JobId { get; set; }
    public int TargetHours { get; set; }
    /// <summary>The platform's fee in basis points of contributor pay (250 = 2.5 %), paid by the requester on top.</summary>
    public int PlatformFeeBp { get; set; }
    /// <summary>
    /// The supplier fee rate on this job, set by the requester and shown before consent: basis points of contributor pay,
    /// on top, never out of it. It goes to the supplier each contributor is attributed to; unattributed work carries none.
    /// </summary>
    public int SupplierFeeBp { get; set; }
    public DateTimeOffset? PausedAt { get; set; }
    public string? PauseReason { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A message to a requester about their job's money.</summary>
public sealed class EscrowNotice
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public Guid OrganisationId { get; set; }
    public string Message { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class JobBudgetConfiguration : IEntityTypeConfiguration<JobBudget>
{
    public void Configure(EntityTypeBuilder<JobBudget> e)
    {
        e.ToTable("job_budgets");
        e.HasKey(b => b.JobId);
        e.Property(b => b.PauseReason).HasMaxLength(500);
        e.HasOne<Job>().WithOne().HasForeignKey<JobBudget>(b => b.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class EscrowNoticeConfiguration : IEntityTypeConfiguration<EscrowNotice>
{
    public void Configure(EntityTypeBuilder<EscrowNotice> e)
    {
        e.ToTable("escrow_notices");
        e.Property(n => n.Message).HasMaxLength(500);
        e.HasIndex(n => new { n.OrganisationId, n.CreatedAt });
        e.HasOne<Job>().WithMany().HasForeignKey(n => n.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
