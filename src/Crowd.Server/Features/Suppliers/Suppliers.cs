using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Suppliers;

/// <summary>A link or code a supplier hands out; signing up through it offers (never imposes) attribution to the supplier.</summary>
public sealed class SupplierInvitation
{
    public Guid Id { get; set; }
    public Guid OrganisationId { get; set; }
    public string Code { get; set; } = "";
    /// <summary>The job the invitation leads to after the attribution screen; null for the platform as a whole.</summary>
    public Guid? JobId { get; set; }
    public string Label { get; set; } = "";
    public Guid CreatedByUserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>A contributor said yes to being attributed to a supplier; detaching ends it and keeps the row as history.</summary>
public sealed class SupplierAttribution
{
    public Guid Id { get; set; }
    public Guid ContributorId { get; set; }
    public Guid OrganisationId { get; set; }
    public Guid? InvitationId { get; set; }
    public DateTimeOffset AttributedAt { get; set; }
    public DateTimeOffset? DetachedAt { get; set; }
}

/// <summary>A report that a supplier, school or employer pressed someone to record. Anonymous: ReporterId is null.</summary>
public sealed class CoercionReport
{
    public Guid Id { get; set; }
    public Guid? ReporterId { get; set; }
    public Guid? SupplierOrganisationId { get; set; }
    public string? NamedParty { get; set; }
    public string Description { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }
    public Guid? ClosedByUserId { get; set; }
    public string? Outcome { get; set; }
}

/// <summary>An admin suspended a supplier; open until reinstated.</summary>
public sealed class SupplierSuspension
{
    public Guid Id { get; set; }
    public Guid OrganisationId { get; set; }
    public Guid? ReportId { get; set; }
    public string Reason { get; set; } = "";
    public DateTimeOffset SuspendedAt { get; set; }
    public Guid SuspendedByUserId { get; set; }
    public DateTimeOffset? ReinstatedAt { get; set; }
    public Guid? ReinstatedByUserId { get; set; }
}

/// <summary>Marks a supplier's closed month as computed (once, for good) and holds its sign-up count.</summary>
public sealed class SupplierStatMonth
{
    public Guid OrganisationId { get; set; }
    public DateOnly Month { get; set; }
    public int SignedUp { get; set; }
    public bool SignedUpPublished { get; set; }
    public DateTimeOffset ComputedAt { get; set; }
}

/// <summary>One frozen cell: a closed month, a currency, one job or all jobs (<see cref="SupplierStats.AllJobs"/>).</summary>
public sealed class SupplierStatCell
{
    public Guid OrganisationId { get; set; }
    public DateOnly Month { get; set; }
    public string Currency { get; set; } = "";
    public Guid JobId { get; set; }
    public int Contributors { get; set; }
    public long ActiveMs { get; set; }
    public long PayMinor { get; set; }
    public int ClipsAccepted { get; set; }
    public int ClipsReviewed { get; set; }
    /// <summary>The supplier fee earned on the work this cell counts; shown only where it cannot reveal a suppressed cell.</summary>
    public long SupplierFeeMinor { get; set; }
    public bool Published { get; set; }
}

/// <summary>Texts of the supplier pages and errors; translations in SuppliersText.zh-Hans.resx.</summary>
public sealed class SuppliersText;

internal sealed class SupplierInvitationConfiguration : IEntityTypeConfiguration<SupplierInvitation>
{
    public void Configure(EntityTypeBuilder<SupplierInvitation> e)
    {
        e.ToTable("supplier_invitations");
        e.Property(i => i.Code).HasMaxLength(32);
        e.Property(i => i.Label).HasMaxLength(SupplierAttributions.MaxLabelLength);
        e.HasIndex(i => i.Code).IsUnique();
        e.HasIndex(i => i.OrganisationId);
        e.HasOne<Organisation>().WithMany().HasForeignKey(i => i.OrganisationId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<Job>().WithMany().HasForeignKey(i => i.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SupplierAttributionConfiguration : IEntityTypeConfiguration<SupplierAttribution>
{
    public void Configure(EntityTypeBuilder<SupplierAttribution> e)
    {
        e.ToTable("supplier_attributions");
        e.HasIndex(a => a.ContributorId).IsUnique().HasFilter("detached_at IS NULL");
        e.HasIndex(a => a.OrganisationId);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(a => a.ContributorId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<Organisation>().WithMany().HasForeignKey(a => a.OrganisationId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<SupplierInvitation>().WithMany().HasForeignKey(a => a.InvitationId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class CoercionReportConfiguration : IEntityTypeConfiguration<CoercionReport>
{
    public void Configure(EntityTypeBuilder<CoercionReport> e)
    {
        e.ToTable("coercion_reports", t => t.HasCheckConstraint("ck_coercion_reports_names_someone",
            "supplier_organisation_id IS NOT NULL OR named_party IS NOT NULL"));
        e.Property(r => r.NamedParty).HasMaxLength(200);
        e.Property(r => r.Description).HasMaxLength(4000);
        e.Property(r => r.Outcome).HasMaxLength(CoercionReports.MaxDecisionLength);
        e.HasIndex(r => r.SupplierOrganisationId);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(r => r.ReporterId).OnDelete(DeleteBehavior.SetNull);
        e.HasOne<Organisation>().WithMany().HasForeignKey(r => r.SupplierOrganisationId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class SupplierSuspensionConfiguration : IEntityTypeConfiguration<SupplierSuspension>
{
    public void Configure(EntityTypeBuilder<SupplierSuspension> e)
    {
        e.ToTable("supplier_suspensions");
        e.Property(s => s.Reason).HasMaxLength(CoercionReports.MaxDecisionLength);
        e.HasIndex(s => s.OrganisationId).IsUnique().HasFilter("reinstated_at IS NULL");
        e.HasIndex(s => s.ReportId);
        e.HasOne<Organisation>().WithMany().HasForeignKey(s => s.OrganisationId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<CoercionReport>().WithMany().HasForeignKey(s => s.ReportId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class SupplierStatMonthConfiguration : IEntityTypeConfiguration<SupplierStatMonth>
{
    public void Configure(EntityTypeBuilder<SupplierStatMonth> e)
    {
        e.ToTable("supplier_stat_months");
        e.HasKey(m => new { m.OrganisationId, m.Month });
        e.HasOne<Organisation>().WithMany().HasForeignKey(m => m.OrganisationId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SupplierStatCellConfiguration : IEntityTypeConfiguration<SupplierStatCell>
{
    public void Configure(EntityTypeBuilder<SupplierStatCell> e)
    {
        e.ToTable("supplier_stat_cells");
        e.HasKey(c => new { c.OrganisationId, c.Month, c.Currency, c.JobId });
        e.Property(c => c.Currency).HasMaxLength(3).IsFixedLength();
        e.HasOne<SupplierStatMonth>().WithMany().HasForeignKey(c => new { c.OrganisationId, c.Month }).OnDelete(DeleteBehavior.Cascade);
    }
}
