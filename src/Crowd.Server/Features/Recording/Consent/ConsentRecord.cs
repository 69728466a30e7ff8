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
