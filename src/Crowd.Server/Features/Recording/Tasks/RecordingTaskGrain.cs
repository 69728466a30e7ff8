using Crowd.Server.Features.Recording.Clips;

namespace Crowd.Server.Features.Recording.Tasks;

/// <summary>A take the contributor submitted, stored encrypted already, for its task slot to count (or refuse).</summary>
[GenerateSerializer, Immutable]
public sealed record KeptTake(
    Guid ClipId,
    Guid TakeId,
    Guid SessionId,
    Guid JobId,
    int JobVersion,
    Guid PromptId,
    Guid ContributorId,
    string StorageKey,
    string Sha256,
    long SizeBytes,
    byte[] WrappedKey,
    int SampleRate,
    int DurationMs,
    string Metrics,
    string Verdict,
    string BrowserSettings,
    DateTimeOffset CreatedAt,
    long ActiveMs);

/// <summary>One take slot of a prompt (the card's RecordingTask).</summary>
public interface IRecordingTaskGrain : IGrainWithGuidKey
{
    /// <summary>Counts the take if this session still holds the slot and the speaker is under the cap; the clip row and the session's pay land with it.</summary>
    Task<AcceptOutcome> Keep(KeptTake take);
}

/// <summary>Takes of one slot are kept one at a time, so a slot never counts more takes than it needs.</summary>
public sealed class RecordingTaskGrain(IServiceScopeFactory scopes) : Grain, IRecordingTaskGrain
{
    public async Task<AcceptOutcome> Keep(KeptTake take)
    {
        await using var scope = scopes.CreateAsyncScope();
        var clip = new Clip
        {
            Id = take.ClipId,
            TakeId = take.TakeId,
            SessionId = take.SessionId,
            TaskId = this.GetPrimaryKey(),
            JobId = take.JobId,
            JobVersion = take.JobVersion,
            PromptId = take.PromptId,
            ContributorId = take.ContributorId,
            StorageKey = take.StorageKey,
            Sha256 = take.Sha256,
            SizeBytes = take.SizeBytes,
            WrappedKey = take.WrappedKey,
            SampleRate = take.SampleRate,
            DurationMs = take.DurationMs,
            Metrics = take.Metrics,
            Verdict = take.Verdict,
            BrowserSettings = take.BrowserSettings,
            CreatedAt = take.CreatedAt,
        };
        return await scope.ServiceProvider.GetRequiredService<TaskClaims>().AcceptAsync(clip, take.ActiveMs, CancellationToken.None);
    }
}
