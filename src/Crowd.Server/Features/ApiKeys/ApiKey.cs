using Crowd.Server.Features.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.ApiKeys;

/// <summary>A requester organisation's key for programmatic access. Only the SHA-256 of the secret is kept.</summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public Guid OrganisationId { get; set; }
    public Guid CreatedByUserId { get; set; }
    public string Name { get; set; } = "";
    /// <summary>The public part of the key, shown in lists so a person can tell keys apart.</summary>
    public string Prefix { get; set; } = "";
    public byte[] SecretHash { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> e)
    {
        e.Property(k => k.Name).HasMaxLength(100);
        e.Property(k => k.Prefix).HasMaxLength(32);
        e.HasIndex(k => k.Prefix).IsUnique();
        e.HasIndex(k => k.OrganisationId);
        e.HasOne<Organisation>().WithMany().HasForeignKey(k => k.OrganisationId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(k => k.CreatedByUserId).OnDelete(DeleteBehavior.Restrict);
    }
}
