using Crowd.Server.Features.Accounts;

namespace Crowd.Server.Features.Notifications;

/// <summary>What a person can be told about. Stored by <see cref="NotificationKinds.Code"/>, which never changes.</summary>
public enum NotificationKind
{
    // Contributors
    ClipRejected = 1,
    AppealDecided = 2,
    PayoutSent = 3,
    PayoutPaid = 4,
    GuardianConfirmed = 5,
    /// <summary>A job's terms changed: recording on needs consent to the new version.</summary>
    ConsentNeededAgain = 6,
    /// <summary>A job the contributor was working on paused itself (its escrow ran low).</summary>
    JobPausedMidWork = 7,
    ExportReady = 8,
    /// <summary>A fraud rejection was not appealed within its window: the clip's pay was taken back.</summary>
    PayTakenBack = 9,

    // Requesters
    JobFunded = 20,
    JobPaused = 21,
    JobResumed = 22,
    DeletionNoticesOverdue = 23,

    // Suppliers
    InvitationUsed = 40,
    MonthlyFigures = 41,
}

public static class NotificationKinds
{
    public static readonly NotificationKind[] All = Enum.GetValues<NotificationKind>();

    public static string Code(this NotificationKind kind) => kind switch
    {
        NotificationKind.ClipRejected => "clip_rejected",
        NotificationKind.AppealDecided => "appeal_decided",
        NotificationKind.PayoutSent => "payout_sent",
        NotificationKind.PayoutPaid => "payout_paid",
        NotificationKind.GuardianConfirmed => "guardian_confirmed",
        NotificationKind.ConsentNeededAgain => "consent_needed_again",
        NotificationKind.JobPausedMidWork => "job_paused_mid_work",
        NotificationKind.ExportReady => "export_ready",
        NotificationKind.PayTakenBack => "pay_taken_back",
        NotificationKind.JobFunded => "job_funded",
        NotificationKind.JobPaused => "job_paused",
        NotificationKind.JobResumed => "job_resumed",
        NotificationKind.DeletionNoticesOverdue => "deletion_notices_overdue",
        NotificationKind.InvitationUsed => "invitation_used",
        NotificationKind.MonthlyFigures => "monthly_figures",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static NotificationKind? FromCode(string? code) => All.Cast<NotificationKind?>().FirstOrDefault(k => k!.Value.Code() == code);

    /// <summary>The role whose members get this kind; the settings page offers each person the kinds of their roles.</summary>
    public static string Audience(this NotificationKind kind) => (int)kind switch
    {
        < 20 => Roles.Contributor,
        < 40 => Roles.Requester,
        _ => Roles.Supplier,
    };

    /// <summary>The English name of the kind on the settings page (and the key of its translation).</summary>
    public static string Label(this NotificationKind kind) => kind switch
    {
        NotificationKind.ClipRejected => "A clip of mine is rejected",
        NotificationKind.AppealDecided => "An appeal of mine is decided",
        NotificationKind.PayoutSent => "A payout is sent",
        NotificationKind.PayoutPaid => "A payout is paid",
        NotificationKind.GuardianConfirmed => "My parent or guardian confirms a consent",
        NotificationKind.ConsentNeededAgain => "A job's terms change and need my consent again",
        NotificationKind.JobPausedMidWork => "A job I work on is paused",
        NotificationKind.ExportReady => "My data is ready to download",
        NotificationKind.PayTakenBack => "The pay for a clip rejected for fraud is taken back",
        NotificationKind.JobFunded => "A job is funded",
        NotificationKind.JobPaused => "A job pauses itself because its escrow runs low",
        NotificationKind.JobResumed => "A paused job resumes",
        NotificationKind.DeletionNoticesOverdue => "Deletion notices wait too long for acknowledgement",
        NotificationKind.InvitationUsed => "People join through an invitation",
        NotificationKind.MonthlyFigures => "A month's figures are available",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
