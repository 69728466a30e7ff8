using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Notifications;

/// <summary>
/// What a notification is about. Each kind uses the fields it needs (see <see cref="NotificationTexts"/>); the words
/// are made from these when the notification is read, in the reader's language. Codes (<see cref="Code"/>) are stable
/// codes such as a rejection reason, never translated text.
/// </summary>
public sealed record NotificationData
{
    public Guid? JobId { get; init; }
    public string? JobTitle { get; init; }
    public Guid? ClipId { get; init; }
    public string? Prompt { get; init; }
    /// <summary>A stable code: a rejection reason ("wrong-prompt"), an appeal outcome ("upheld"), a funding result ("published").</summary>
    public string? Code { get; init; }
    /// <summary>A person's own words: a reviewer's reason, an admin's decision.</summary>
    public string? Note { get; init; }
    public Money? Amount { get; init; }
    public Money? Total { get; init; }
    public int? Count { get; init; }
    public int? Version { get; init; }
    public int? Days { get; init; }
    public DateTimeOffset? Until { get; init; }
    /// <summary>A name the reader gave something (an invitation), or a month as yyyy-MM.</summary>
    public string? Label { get; init; }
}

/// <summary>One thing one person was told. Written in the transaction of the action that caused it.</summary>
public sealed class Notification
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public string Kind { get; set; } = "";
    public string Data { get; set; } = "{}";
    /// <summary>False when the person switched the in-app list off for this kind; the row still keeps a recurring check from telling them twice.</summary>
    public bool InApp { get; set; }
    public string? OnceKey { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ReadAt { get; set; }
}

/// <summary>A kind a person switched off, in the app, by mail, or both.</summary>
public sealed class NotificationPreference
{
    public Guid UserId { get; set; }
    public string Kind { get; set; } = "";
    public bool InApp { get; set; } = true;
    public bool Email { get; set; } = true;
}

internal sealed class NotificationConfiguration : IEntityTypeConfiguration<Notification>
{
    public void Configure(EntityTypeBuilder<Notification> e)
    {
        e.ToTable("notifications");
        e.Property(n => n.Kind).HasMaxLength(64);
        e.Property(n => n.Data).HasColumnType("jsonb");
        e.Property(n => n.OnceKey).HasMaxLength(200);
        e.HasIndex(n => new { n.UserId, n.CreatedAt });
        e.HasIndex(n => n.UserId).HasFilter("in_app AND read_at IS NULL");
        e.HasIndex(n => new { n.UserId, n.OnceKey }).IsUnique().HasFilter("once_key IS NOT NULL");
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(n => n.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class NotificationPreferenceConfiguration : IEntityTypeConfiguration<NotificationPreference>
{
    public void Configure(EntityTypeBuilder<NotificationPreference> e)
    {
        e.ToTable("notification_preferences");
        e.HasKey(p => new { p.UserId, p.Kind });
        e.Property(p => p.Kind).HasMaxLength(64);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(p => p.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
