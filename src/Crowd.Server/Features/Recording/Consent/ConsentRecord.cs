using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Recording.Consent;

/// <summary>
/// A contributor's consent to one version of a job's terms. Append-only: a withdrawal sets <see cref="WithdrawnAt"/>,
/// consenting again adds a row. Recording is gated on the one row per (job, version, contributor) not withdrawn.
/// </summary>
public sealed class ConsentRecord
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public int JobVersion { get; set; }
    public Guid ContributorId { get; set; }
    public string TermsSha256 { get; set; } = "";
    public DateTimeOffset GivenAt { get; set; }
    public DateTimeOffset? WithdrawnAt { get; set; }
    /// <summary>The separate opt-in to voice cloning / speech synthesis; speech recognition never implies it.</summary>
    public bool VoiceCloning { get; set; }
    /// <summary>SHA-256 of the exact consent text shown (<see cref="StoredConsentText"/>). Null only on consents older than the stored texts.</summary>
    public string? TextSha256 { get; set; }
    /// <summary>The full name the contributor typed to sign.</summary>
    public string? Signature { get; set; }
    /// <summary>For a minor, the guardian's confirmation this consent rests on.</summary>
    public Guid? GuardianConsentId { get; set; }
}

/// <summary>One exact consent text as shown to someone, stored once and referred to by its SHA-256.</summary>
public sealed class StoredConsentText
{
    public string Sha256 { get; set; } = "";
    public string Culture { get; set; } = "";
    public string Body { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// A minor's request for a guardian's consent: the minor's signature and choices, and a single-use link (stored as
/// the SHA-256 of its token) mailed to the guardian. Confirming it is the only way a minor's consent becomes live.
/// </summary>
public sealed class GuardianConsent
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public int JobVersion { get; set; }
    public Guid ContributorId { get; set; }
    public string TextSha256 { get; set; } = "";
    public bool VoiceCloning { get; set; }
    public string MinorSignature { get; set; } = "";
    public string GuardianEmail { get; set; } = "";
    public string TokenSha256 { get; set; } = "";
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? ConfirmedAt { get; set; }
    public string? GuardianName { get; set; }
}

internal sealed class ConsentRecordConfiguration : IEntityTypeConfiguration<ConsentRecord>
{
    public void Configure(EntityTypeBuilder<ConsentRecord> e)
    {
        e.ToTable("consents");
        e.Property(c => c.TermsSha256).HasMaxLength(64);
        e.Property(c => c.TextSha256).HasMaxLength(64);
        e.Property(c => c.Signature).HasMaxLength(200);
        e.HasIndex(c => new { c.JobId, c.JobVersion, c.ContributorId }).IsUnique().HasFilter("withdrawn_at IS NULL");
        e.HasIndex(c => c.ContributorId);
        e.HasOne<JobVersion>().WithMany().HasForeignKey(c => new { c.JobId, c.JobVersion }).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(c => c.ContributorId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<StoredConsentText>().WithMany().HasForeignKey(c => c.TextSha256).OnDelete(DeleteBehavior.Restrict);
        e.HasOne<GuardianConsent>().WithMany().HasForeignKey(c => c.GuardianConsentId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class StoredConsentTextConfiguration : IEntityTypeConfiguration<StoredConsentText>
{
    public void Configure(EntityTypeBuilder<StoredConsentText> e)
    {
        e.ToTable("consent_texts");
        e.HasKey(t => t.Sha256);
        e.Property(t => t.Sha256).HasMaxLength(64);
        e.Property(t => t.Culture).HasMaxLength(16);
    }
}

internal sealed class GuardianConsentConfiguration : IEntityTypeConfiguration<GuardianConsent>
{
    public void Configure(EntityTypeBuilder<GuardianConsent> e)
    {
        e.ToTable("guardian_consents", t => t.HasCheckConstraint("ck_guardian_consents_confirmed", "(confirmed_at IS NULL) = (guardian_name IS NULL)"));
        e.Property(g => g.TextSha256).HasMaxLength(64);
        e.Property(g => g.MinorSignature).HasMaxLength(200);
        e.Property(g => g.GuardianEmail).HasMaxLength(256);
        e.Property(g => g.TokenSha256).HasMaxLength(64);
        e.Property(g => g.GuardianName).HasMaxLength(200);
        e.HasIndex(g => g.TokenSha256).IsUnique();
        e.HasIndex(g => g.ContributorId);
        e.HasOne<JobVersion>().WithMany().HasForeignKey(g => new { g.JobId, g.JobVersion }).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(g => g.ContributorId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<StoredConsentText>().WithMany().HasForeignKey(g => g.TextSha256).OnDelete(DeleteBehavior.Restrict);
    }
}
