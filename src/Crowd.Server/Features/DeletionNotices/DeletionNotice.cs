using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Recording.Clips;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.DeletionNotices;

public enum DeletionReason
{
    /// <summary>The contributor withdrew the clip or their consent to the job.</summary>
    Withdrawal = 1,
    /// <summary>The job's retention period (or three years without the contributor's interaction) ended.</summary>
    Retention = 2,
}

/// <summary>Tells one organisation that received clips in an export to delete them; open until someone there acknowledges it.</summary>
public sealed class DeletionNotice
{
    public Guid Id { get; set; }
    public Guid OrganisationId { get; set; }
    public DeletionReason Reason { get; set; }
    public int ClipCount { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? AcknowledgedAt { get; set; }
    public Guid? AcknowledgedByUserId { get; set; }
}

/// <summary>One clip a notice asks to delete, and the export it went out in.</summary>
public sealed class DeletionNoticeClip
{
    public Guid NoticeId { get; set; }
    public Guid ClipId { get; set; }
    public Guid ExportId { get; set; }
}

/// <summary>Where an organisation wants deletion notices POSTed. The signing secret is stored protected, shown once.</summary>
public sealed class WebhookEndpoint
{
    public Guid OrganisationId { get; set; }
    public string Url { get; set; } = "";
    public string ProtectedSecret { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public Guid CreatedByUserId { get; set; }
}

public enum DeliveryState
{
    Pending = 0,
    Delivered = 1,
    Failed = 2,
}

/// <summary>What the last attempt of a delivery came to, in the platform's own words.</summary>
public enum DeliveryOutcome
{
    Delivered = 1,
    /// <summary>The requester's server answered, with a status other than 2xx (kept in LastStatus).</summary>
    Refused = 2,
    /// <summary>No answer: the address could not be reached, was refused by the platform's network rules, or timed out.</summary>
    CouldNotConnect = 3,
}

public static class DeliveryOutcomes
{
    public static string Code(this DeliveryOutcome outcome) => outcome switch
    {
        DeliveryOutcome.Delivered => "delivered",
        DeliveryOutcome.Refused => "refused",
        _ => "could_not_connect",
    };

    public static string Describe(this DeliveryOutcome outcome, int? status, Microsoft.Extensions.Localization.IStringLocalizer text) => outcome switch
    {
        DeliveryOutcome.Delivered => text["Delivered to your server"],
        DeliveryOutcome.Refused => text["Refused by your server: HTTP {0}", status ?? 0],
        _ => text["Could not connect"],
    };
}

/// <summary>One event to POST to an organisation's webhook, with its attempts so far.</summary>
public sealed class WebhookDelivery
{
    public Guid Id { get; set; }
    public Guid OrganisationId { get; set; }
    public Guid NoticeId { get; set; }
    public string EventType { get; set; } = "";
    /// <summary>The exact body sent (and signed) at every attempt.</summary>
    public string Payload { get; set; } = "";
    public DeliveryState State { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    public DateTimeOffset? LastAttemptAt { get; set; }
    public int? LastStatus { get; set; }
    public DeliveryOutcome? LastOutcome { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class DeletionNoticeConfiguration : IEntityTypeConfiguration<DeletionNotice>
{
    public void Configure(EntityTypeBuilder<DeletionNotice> e)
    {
        e.ToTable("deletion_notices", t =>
            t.HasCheckConstraint("ck_deletion_notices_acknowledged", "(acknowledged_at IS NULL) = (acknowledged_by_user_id IS NULL)"));
        e.HasIndex(n => new { n.OrganisationId, n.CreatedAt });
        e.HasIndex(n => n.CreatedAt).HasFilter("acknowledged_at IS NULL");
        e.HasOne<Organisation>().WithMany().HasForeignKey(n => n.OrganisationId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(n => n.AcknowledgedByUserId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class DeletionNoticeClipConfiguration : IEntityTypeConfiguration<DeletionNoticeClip>
{
    public void Configure(EntityTypeBuilder<DeletionNoticeClip> e)
    {
        e.ToTable("deletion_notice_clips");
        e.HasKey(c => new { c.NoticeId, c.ClipId, c.ExportId });
        e.HasIndex(c => c.ClipId);
        e.HasOne<DeletionNotice>().WithMany().HasForeignKey(c => c.NoticeId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<Clip>().WithMany().HasForeignKey(c => c.ClipId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WebhookEndpointConfiguration : IEntityTypeConfiguration<WebhookEndpoint>
{
    public void Configure(EntityTypeBuilder<WebhookEndpoint> e)
    {
        e.ToTable("webhook_endpoints");
        e.HasKey(w => w.OrganisationId);
        e.Property(w => w.Url).HasMaxLength(2000);
        e.HasOne<Organisation>().WithOne().HasForeignKey<WebhookEndpoint>(w => w.OrganisationId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(w => w.CreatedByUserId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<WebhookDelivery> e)
    {
        e.ToTable("webhook_deliveries");
        e.Property(d => d.EventType).HasMaxLength(100);
        e.HasIndex(d => d.NextAttemptAt).HasFilter($"state = {(int)DeliveryState.Pending}");
        e.HasIndex(d => d.NoticeId);
        e.HasIndex(d => d.OrganisationId);
        e.HasOne<Organisation>().WithMany().HasForeignKey(d => d.OrganisationId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<DeletionNotice>().WithMany().HasForeignKey(d => d.NoticeId).OnDelete(DeleteBehavior.Cascade);
    }
}
