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
