namespace Crowd.Server.Features.Recording.Tasks;

/// <summary>
/// One take slot of a job's prompt: a prompt needing three takes has slots 0, 1 and 2, so three speakers can record it at
/// once. Held by at most one worker session at a time, until its claim expires.
/// </summary>
public sealed class RecordingTask
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public Guid PromptId { get; set; }
    public int Ordinal { get; set; }
    public int Slot { get; set; }
    public int TakesNeeded { get; set; }
    public int AcceptedTakes { get; set; }
    public Guid? ClaimedBySessionId { get; set; }
    public DateTimeOffset? ClaimExpiresAt { get; set; }
}

/// <summary>How many takes one contributor has given to one job: the per-speaker cap is checked against it under a row lock.</summary>
public sealed class RecordingSpeaker
{
    public Guid JobId { get; set; }
    public Guid ContributorId { get; set; }
    public int AcceptedTakes { get; set; }
}
