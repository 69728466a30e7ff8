namespace Crowd.Server.Features.Exports.Datasets;

public enum DatasetPackageState
{
    Pending = 0,
    Building = 1,
    Ready = 2,
    Failed = 3,
    Expired = 4,
}

/// <summary>
/// A dataset export packed as one ZIP for a browser to download: the signed files, the published keys and the clips that
/// are still live. Built in the background with its progress here; the file is deleted when the download time is over.
/// </summary>
public sealed class DatasetPackage
{
    public Guid ExportId { get; set; }
    public Guid OrganisationId { get; set; }
    public Guid RequestedByUserId { get; set; }
    public DatasetPackageState State { get; set; }
    public int ClipsDone { get; set; }
    public int ClipsTotal { get; set; }
    public long SizeBytes { get; set; }
    public string? FileName { get; set; }
    /// <summary>The node building it; with <see cref="HeartbeatAt"/>, how a build abandoned by a stopped node is found.</summary>
    public string? Node { get; set; }
    public string? Failure { get; set; }
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset? HeartbeatAt { get; set; }
    public DateTimeOffset? ReadyAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }

    public int Percent => ClipsTotal == 0 ? (State == DatasetPackageState.Ready ? 100 : 0) : (int)(100L * ClipsDone / ClipsTotal);
}
