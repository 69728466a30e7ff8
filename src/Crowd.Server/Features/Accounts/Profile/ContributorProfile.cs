using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Accounts.Profile;

/// <summary>
/// Where a contributor lives, the languages they speak besides their native one (which, with their accent, is their
/// <see cref="Speech.SpeakerProfile"/>), and optional demographics. Every part may stay unanswered.
/// </summary>
public sealed class ContributorProfile
{
    public Guid ContributorId { get; set; }

    /// <summary>A rate-floor region code (CN-BJ, GB): the board compares each job's pay with that region's floor.</summary>
    public string? Region { get; set; }

    public string[] Languages { get; set; } = [];

    /// <summary>One of <see cref="ProfileRules.Genders"/>; null when not answered.</summary>
    public string? Gender { get; set; }

    /// <summary><see cref="ProfileRules.ShareAgeBand"/> or <see cref="ProfileRules.PreferNotToSay"/>; null when not answered.</summary>
    public string? AgeBand { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class ContributorProfileConfiguration : IEntityTypeConfiguration<ContributorProfile>
{
    public void Configure(EntityTypeBuilder<ContributorProfile> e)
    {
        e.ToTable("contributor_profiles");
        e.HasKey(p => p.ContributorId);
        e.Property(p => p.Region).HasMaxLength(RateFloors.RateFloorRules.MaxRegionLength);
        e.Property(p => p.Gender).HasMaxLength(ProfileRules.MaxCodeLength);
        e.Property(p => p.AgeBand).HasMaxLength(ProfileRules.MaxCodeLength);
        e.HasOne<CrowdUser>().WithOne().HasForeignKey<ContributorProfile>(p => p.ContributorId).OnDelete(DeleteBehavior.Cascade);
    }
}
