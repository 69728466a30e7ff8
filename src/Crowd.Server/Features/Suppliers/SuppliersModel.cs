using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Suppliers;

/// <summary>The suppliers feature's part of the EF model; it mirrors Migrations/0060_suppliers.sql.</summary>
internal static class SuppliersModel
{
    public static void MapSuppliers(this ModelBuilder builder)
    {
        builder.Entity<SupplierInvitation>(e =>
        {
            e.ToTable("supplier_invitations");
            e.Property(i => i.Code).HasMaxLength(32);
            e.Property(i => i.Label).HasMaxLength(100);
            e.HasIndex(i => i.Code).IsUnique();
            e.HasIndex(i => i.OrganisationId);
            e.HasOne<Organisation>().WithMany().HasForeignKey(i => i.OrganisationId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Job>().WithMany().HasForeignKey(i => i.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<SupplierAttribution>(e =>
        {
            e.ToTable("supplier_attributions");
            e.HasIndex(a => a.ContributorId).IsUnique().HasFilter("detached_at IS NULL");
            e.HasIndex(a => a.OrganisationId);
            e.HasOne<CrowdUser>().WithMany().HasForeignKey(a => a.ContributorId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Organisation>().WithMany().HasForeignKey(a => a.OrganisationId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<SupplierInvitation>().WithMany().HasForeignKey(a => a.InvitationId).OnDelete(DeleteBehavior.SetNull);
        });
        builder.Entity<CoercionReport>(e =>
        {
            e.ToTable("coercion_reports", t => t.HasCheckConstraint("ck_coercion_reports_names_someone",
                "supplier_organisation_id IS NOT NULL OR named_party IS NOT NULL"));
            e.Property(r => r.NamedParty).HasMaxLength(200);
            e.Property(r => r.Description).HasMaxLength(4000);
            e.Property(r => r.Outcome).HasMaxLength(2000);
            e.HasIndex(r => r.SupplierOrganisationId);
            e.HasOne<CrowdUser>().WithMany().HasForeignKey(r => r.ReporterId).OnDelete(DeleteBehavior.SetNull);
            e.HasOne<Organisation>().WithMany().HasForeignKey(r => r.SupplierOrganisationId).OnDelete(DeleteBehavior.SetNull);
        });
        builder.Entity<SupplierSuspension>(e =>
        {
            e.ToTable("supplier_suspensions");
            e.Property(s => s.Reason).HasMaxLength(2000);
            e.HasIndex(s => s.OrganisationId).IsUnique().HasFilter("reinstated_at IS NULL");
            e.HasIndex(s => s.ReportId);
            e.HasOne<Organisation>().WithMany().HasForeignKey(s => s.OrganisationId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<CoercionReport>().WithMany().HasForeignKey(s => s.ReportId).OnDelete(DeleteBehavior.SetNull);
        });
        builder.Entity<SupplierStatMonth>(e =>
        {
            e.ToTable("supplier_stat_months");
            e.HasKey(m => new { m.OrganisationId, m.Month });
            e.HasOne<Organisation>().WithMany().HasForeignKey(m => m.OrganisationId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<SupplierStatCell>(e =>
        {
            e.ToTable("supplier_stat_cells");
            e.HasKey(c => new { c.OrganisationId, c.Month, c.Currency, c.JobId });
            e.Property(c => c.Currency).HasMaxLength(3).IsFixedLength();
            e.HasOne<SupplierStatMonth>().WithMany().HasForeignKey(c => new { c.OrganisationId, c.Month }).OnDelete(DeleteBehavior.Cascade);
        });
    }
}
