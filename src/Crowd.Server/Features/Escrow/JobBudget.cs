namespace Crowd.Server.Features.Escrow;

/// <summary>What a job's escrow must hold before it goes live: target hours × rate plus the disclosed fees.</summary>
public sealed class JobBudget
{
    public Guid JobId { get; set; }
    public int TargetHours { get; set; }
    /// <summary>The platform's fee in basis points of contributor pay (250 = 2.5 %), paid by the requester on top.</summary>
    public int PlatformFeeBp { get; set; }
    /// <summary>
    /// The supplier fee rate on this job, set by the requester and shown before consent: basis points of contributor pay,
    /// on top, never out of it. It goes to the supplier each contributor is attributed to; unattributed work carries none.
    /// </summary>
    public int SupplierFeeBp { get; set; }
    public DateTimeOffset? PausedAt { get; set; }
    public string? PauseReason { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A message to a requester about their job's money.</summary>
public sealed class EscrowNotice
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public Guid OrganisationId { get; set; }
    public string Message { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}
