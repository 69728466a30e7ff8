namespace Crowd.Server.Features.Exports.Datasets;

/// <summary>A dataset an organisation took out of a job: the signed manifest exactly as delivered. Its clips are in clip_recipients.</summary>
public sealed class DatasetExport
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public Guid OrganisationId { get; set; }
    public Guid RequestedByUserId { get; set; }
    public Guid? ApiKeyId { get; set; }
    /// <summary>"speech-recognition" or "voice-cloning".</summary>
    public string DatasetUse { get; set; } = "";
    public int ClipCount { get; set; }
    public long TotalBytes { get; set; }
    public string ManifestJsonl { get; set; } = "";
    public string ManifestTsv { get; set; } = "";
    /// <summary>The text of signature.json: Ed25519 over the metadata files' SHA-256 (HMAC-SHA256 on exports made before).</summary>
    public string Signature { get; set; } = "";
    public string CroissantJson { get; set; } = "";
    public string DatasheetMd { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}
