namespace Crowd.Server.Features.Suppliers;

/// <summary>A link or code a supplier hands out; signing up through it offers (never imposes) attribution to the supplier.</summary>
public sealed class SupplierInvitation
{
    public Guid Id { get; set; }
    public Guid OrganisationId { get; set; }
    public string Code { get; set; } = "";
    /// <summary>The job the invitation leads to after the attribution screen; null for the platform as a whole.</summary>
    public Guid? JobId { get; set; }
    public string Label { get; set; } = "";
    public Guid CreatedByUserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>A contributor said yes to being attributed to a supplier; detaching ends it and keeps the row as history.</summary>
public sealed class SupplierAttribution
{
    public Guid Id { get; set; }
    public Guid ContributorId { get; set; }
    public Guid OrganisationId { get; set; }
    public Guid? InvitationId { get; set; }
    public DateTimeOffset AttributedAt { get; set; }
    public DateTimeOffset? DetachedAt { get; set; }
}

/// <summary>A report that a supplier, school or employer pressed someone to record. Anonymous: ReporterId is null.</summary>
public sealed class CoercionReport
{
    public Guid Id { get; set; }
    public Guid? ReporterId { get; set; }
    public Guid? SupplierOrganisationId { get; set; }
    public string? NamedParty { get; set; }
    public string Description { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }
    public Guid? ClosedByUserId { get; set; }
    public string? Outcome { get; set; }
}

/// <summary>An admin suspended a supplier; open until reinstated.</summary>
public sealed class SupplierSuspension
{
    public Guid Id { get; set; }
    public Guid OrganisationId { get; set; }
    public Guid? ReportId { get; set; }
    public string Reason { get; set; } = "";
    public DateTimeOffset SuspendedAt { get; set; }
    public Guid SuspendedByUserId { get; set; }
    public DateTimeOffset? ReinstatedAt { get; set; }
    public Guid? ReinstatedByUserId { get; set; }
}

/// <summary>Marks a supplier's closed month as computed (once, for good) and holds its sign-up count.</summary>
public sealed class SupplierStatMonth
{
    public Guid OrganisationId { get; set; }
    public DateOnly Month { get; set; }
    public int SignedUp { get; set; }
    public bool SignedUpPublished { get; set; }
    public DateTimeOffset ComputedAt { get; set; }
}

/// <summary>One frozen cell: a closed month, a currency, one job or all jobs (<see cref="SupplierStats.AllJobs"/>).</summary>
public sealed class SupplierStatCell
{
    public Guid OrganisationId { get; set; }
    public DateOnly Month { get; set; }
    public string Currency { get; set; } = "";
    public Guid JobId { get; set; }
    public int Contributors { get; set; }
    public long ActiveMs { get; set; }
    public long PayMinor { get; set; }
    public int ClipsAccepted { get; set; }
    public int ClipsReviewed { get; set; }
    /// <summary>The supplier fee earned on the work this cell counts; shown only where it cannot reveal a suppressed cell.</summary>
    public long SupplierFeeMinor { get; set; }
    public bool Published { get; set; }
}

/// <summary>Texts of the supplier pages and errors; translations in SuppliersText.zh-Hans.resx.</summary>
public sealed class SuppliersText;
