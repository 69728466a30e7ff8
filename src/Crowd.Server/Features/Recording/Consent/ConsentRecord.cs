namespace Crowd.Server.Features.Recording.Consent;

/// <summary>A contributor's consent to one version of a job's terms. Recording is gated on one that is not withdrawn.</summary>
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
}
