using Crowd.Server.Features.Exports.Contributor;
using Crowd.Server.Features.Exports.Datasets;
using Crowd.Server.Infrastructure.Scheduling;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Exports;

public static class ExportsSetup
{
    public static WebApplicationBuilder AddExports(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<ExportKeys>();
        services.AddScoped<DatasetExporter>();
        services.AddScoped<DatasetPackages>();
        services.AddScoped<DatasetSigningKeys>();
        services.AddScoped<DeletionFeed>();
        services.AddScoped<ContributorExports>();
        builder.AddScheduledJob<ContributorExportsJob>(ContributorExportsJob.Name, _ => "*/15 * * * *");
        builder.AddScheduledJob<DatasetPackagesJob>(DatasetPackagesJob.Name, _ => "*/15 * * * *");
        return builder;
    }

    public static RouteGroupBuilder MapExports(this IEndpointRouteBuilder app) => app.MapDatasets();

    /// <summary>The exports' part of the EF model; it mirrors Migrations/0040_exports.sql and 0123_dataset_packages.sql.</summary>
    internal static void MapExports(this ModelBuilder builder)
    {
        builder.Entity<DatasetExport>(e =>
        {
            e.ToTable("dataset_exports");
            e.Property(x => x.DatasetUse).HasMaxLength(32);
            e.HasIndex(x => x.JobId);
            e.HasIndex(x => x.OrganisationId);
            e.HasOne<Jobs.Job>().WithMany().HasForeignKey(x => x.JobId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<Accounts.Organisation>().WithMany().HasForeignKey(x => x.OrganisationId).OnDelete(DeleteBehavior.Restrict);
        });
        builder.Entity<DatasetSigningKey>(e =>
        {
            e.ToTable("dataset_signing_keys");
            e.HasKey(x => x.KeyId);
            e.Property(x => x.KeyId).HasMaxLength(64);
            e.Ignore(x => x.Published);
        });
        builder.Entity<DatasetDeletion>(e =>
        {
            e.ToTable("dataset_deletions");
            e.HasKey(x => x.Seq);
            e.Property(x => x.Seq).UseIdentityAlwaysColumn();
            e.HasIndex(x => new { x.OrganisationId, x.Seq });
            e.HasIndex(x => new { x.OrganisationId, x.ClipId, x.ExportId }).IsUnique();
            e.HasOne<Accounts.Organisation>().WithMany().HasForeignKey(x => x.OrganisationId).OnDelete(DeleteBehavior.Restrict);
        });
        builder.Entity<DatasetPackage>(e =>
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
        });
        builder.Entity<ContributorExport>(e =>
        {
            e.ToTable("contributor_exports", t => t.HasCheckConstraint("ck_contributor_exports_progress", "items_done >= 0 AND items_done <= items_total"));
            e.Property(x => x.Node).HasMaxLength(200);
            e.Property(x => x.Failure).HasMaxLength(500);
            e.Ignore(x => x.Percent);
            e.HasIndex(x => x.ContributorId);
            e.HasIndex(x => x.State);
            e.HasIndex(x => x.ContributorId, "ix_contributor_exports_one_open").IsUnique().HasFilter("state IN (0, 1)");
            e.HasOne<Accounts.CrowdUser>().WithMany().HasForeignKey(x => x.ContributorId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}

/// <summary>Texts of the exports feature. Translations in ExportsText.zh-Hans.resx.</summary>
public sealed class ExportsText;
