using Crowd.Server.Features.Escrow;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Recording.Tasks;

/// <summary>A job being recorded: it hands out open take slots one claim at a time and keeps the per-speaker cap.</summary>
public interface IRecordingJobGrain : IGrainWithGuidKey
{
    /// <param name="skippedPrompts">Prompts this session skipped: none of their slots is offered again.</param>
    Task<ClaimResult> ClaimNext(Guid sessionId, Guid contributorId, Guid[] skippedPrompts);

    /// <summary>A session's checkpoint: whether its contributor is at work, for the job's check that escrow covers everyone's next hour.</summary>
    Task Checkpointed(Guid sessionId, bool working);
}

/// <summary>
/// Claims of one job run here one at a time (a grain's calls never overlap), so two sessions are never handed one slot
/// and one speaker never passes the job's cap; the claim itself is one statement on the recording_tasks rows, which stay
/// the system of record.
/// </summary>
public sealed class RecordingJobGrain(IServiceScopeFactory scopes, TimeProvider clock, IOptions<CrowdOptions> options) : Grain, IRecordingJobGrain
{
    private readonly Dictionary<Guid, DateTimeOffset> _working = [];
    private DateTimeOffset _lastFundingCheck = DateTimeOffset.MinValue;

    private TimeSpan CheckpointPeriod => TimeSpan.FromSeconds(options.Value.Recording.CheckpointSeconds);

    public async Task<ClaimResult> ClaimNext(Guid sessionId, Guid contributorId, Guid[] skippedPrompts)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TaskClaims>()
            .ClaimNextAsync(sessionId, this.GetPrimaryKey(), contributorId, skippedPrompts, CancellationToken.None);
    }

    public async Task Checkpointed(Guid sessionId, bool working)
    {
        var now = clock.GetUtcNow();
        if (working)
        {
            _working[sessionId] = now;
        }
        else
        {
            _working.Remove(sessionId);
        }
        if (now - _lastFundingCheck < CheckpointPeriod)
        {
            return;
        }
        _lastFundingCheck = now;
        // A session that stopped checkpointing (its node died) stops counting after two periods.
        foreach (var stale in _working.Where(w => now - w.Value > 2 * CheckpointPeriod).Select(w => w.Key).ToList())
        {
            _working.Remove(stale);
        }
        if (_working.Count > 0)
        {
            await using var scope = scopes.CreateAsyncScope();
            await JobFunding.CheckNextHourAsync(scope.ServiceProvider.GetRequiredService<CrowdDb>(),
                scope.ServiceProvider.GetRequiredService<Notifications.Notifications>(), this.GetPrimaryKey(), _working.Count, clock);
        }
    }
}
