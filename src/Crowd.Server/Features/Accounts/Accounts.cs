using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Accounts;

public static class Roles
{
    public const string Contributor = "contributor";
    public const string Requester = "requester";
    public const string Supplier = "supplier";
    public const string Admin = "admin";

    public static readonly string[] All = [Contributor, Requester, Supplier, Admin];
}

public sealed class CrowdUser : IdentityUser<Guid>
{
    public string DisplayName { get; set; } = "";
    public DateOnly DateOfBirth { get; set; }
    public Guid? OrganisationId { get; set; }
    public Organisation? Organisation { get; set; }
    public string PreferredCulture { get; set; } = "en";
    public DateTimeOffset CreatedAt { get; set; }
}

public enum OrganisationKind
{
    Requester = 1,
    Supplier = 2,
}

/// <summary>An AI firm that posts jobs (requester) or a vendor that brings contributors in (supplier).</summary>
public sealed class Organisation
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public OrganisationKind Kind { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class CrowdUserConfiguration : IEntityTypeConfiguration<CrowdUser>
{
    public void Configure(EntityTypeBuilder<CrowdUser> e)
    {
        e.ToTable("users");
        e.Property(u => u.DisplayName).HasMaxLength(100);
        e.Property(u => u.PreferredCulture).HasMaxLength(16);
        e.HasOne(u => u.Organisation).WithMany().HasForeignKey(u => u.OrganisationId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class OrganisationConfiguration : IEntityTypeConfiguration<Organisation>
{
    public void Configure(EntityTypeBuilder<Organisation> e)
    {
        e.Property(o => o.Name).HasMaxLength(200);
    }
}

/// <summary>Identity's own tables, named like the rest of the schema.</summary>
internal sealed class IdentityTableNames :
    IEntityTypeConfiguration<IdentityRole<Guid>>,
    IEntityTypeConfiguration<IdentityUserRole<Guid>>,
    IEntityTypeConfiguration<IdentityUserClaim<Guid>>,
    IEntityTypeConfiguration<IdentityUserLogin<Guid>>,
    IEntityTypeConfiguration<IdentityUserToken<Guid>>,
    IEntityTypeConfiguration<IdentityRoleClaim<Guid>>
{
    public void Configure(EntityTypeBuilder<IdentityRole<Guid>> e) => e.ToTable("roles");

    public void Configure(EntityTypeBuilder<IdentityUserRole<Guid>> e) => e.ToTable("user_roles");

    public void Configure(EntityTypeBuilder<IdentityUserClaim<Guid>> e) => e.ToTable("user_claims");

    public void Configure(EntityTypeBuilder<IdentityUserLogin<Guid>> e) => e.ToTable("user_logins");

    public void Configure(EntityTypeBuilder<IdentityUserToken<Guid>> e) => e.ToTable("user_tokens");

    public void Configure(EntityTypeBuilder<IdentityRoleClaim<Guid>> e) => e.ToTable("role_claims");
}
