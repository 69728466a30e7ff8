using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Accounts.Speech;

/// <summary>
/// How a contributor describes their own speech: the language they speak natively and, if they wish, their accent or
/// dialect. Optional and changeable; requesters see it only as counts over groups of at least five speakers.
/// </summary>
public sealed class SpeakerProfile
{
    public Guid ContributorId { get; set; }
    /// <summary>A language tag such as zh-CN or yue.</summary>
    public string Language { get; set; } = "";
    /// <summary>Empty when the speaker named none.</summary>
    public string Accent { get; set; } = "";
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>What the native-language and accent fields show: the values as typed, and whether the language must be given.</summary>
public sealed record SpeakerFields(string? Language, string? Accent, bool Required)
{
    /// <summary>Offered as suggestions; any language tag is accepted.</summary>
    public static readonly string[] CommonLanguages = ["zh-CN", "zh-TW", "yue", "wuu", "nan", "en", "ja", "ko"];
}

internal sealed class SpeakerProfileConfiguration : IEntityTypeConfiguration<SpeakerProfile>
{
    public void Configure(EntityTypeBuilder<SpeakerProfile> e)
    {
        e.ToTable("speaker_profiles");
        e.HasKey(p => p.ContributorId);
        e.Property(p => p.Language).HasMaxLength(SpeakerProfileRules.MaxLanguageLength);
        e.Property(p => p.Accent).HasMaxLength(SpeakerProfileRules.MaxAccentLength);
        e.HasOne<CrowdUser>().WithOne().HasForeignKey<SpeakerProfile>(p => p.ContributorId).OnDelete(DeleteBehavior.Cascade);
    }
}
