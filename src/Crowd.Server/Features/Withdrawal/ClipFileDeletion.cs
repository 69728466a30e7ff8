namespace Crowd.Server.Features.Withdrawal;

/// <summary>An encrypted clip file to delete once its key is gone; kept until the deletion succeeded.</summary>
public sealed class ClipFileDeletion
{
    public Guid ClipId { get; set; }
    public string StorageKey { get; set; } = "";
    public DateTimeOffset QueuedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
}
