namespace Crowd.Server.Features.Accounts.BirthDate;

/// <summary>
/// A contributor's request to correct their date of birth after they consented to a job: the date decides whether a
/// guardian had to consent, so an admin approves or rejects the change.
/// </summary>
public sealed class BirthDateChange
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public DateOnly CurrentDateOfBirth { get; set; }
    public DateOnly RequestedDateOfBirth { get; set; }
    public string Reason { get; set; } = "";
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
    public Guid? DecidedBy { get; set; }
    public bool? Approved { get; set; }
}
