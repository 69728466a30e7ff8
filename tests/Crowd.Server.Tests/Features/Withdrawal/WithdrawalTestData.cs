using System.Security.Cryptography;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Features.Recording.Tasks;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.Withdrawal;

public static class WithdrawalTestData
{
    /// <summary>A clip as recording leaves it: its encrypted blob in the store under its own key, its row pointing at the live consent.</summary>
    public static async Task<Clip> StoredClipAsync(CrowdApp app, TestJob job, Guid contributorId, int prompt = 0, DateTimeOffset? recordedAt = null)
    {
        var sessionId = await app.WithDbAsync(db => db.WorkerSessions
            .Where(s => s.JobId == job.Id && s.ContributorId == contributorId && s.State == WorkerSessionState.Open)
            .Select(s => (Guid?)s.Id).FirstOrDefaultAsync()) ?? await RecordingTestData.OpenSessionRowAsync(app, job, contributorId);
        var clipId = Guid.CreateVersion7();
        var wav = RandomNumberGenerator.GetBytes(32_000);
        await using var scope = app.Services.CreateAsyncScope();
        var stored = await scope.ServiceProvider.GetRequiredService<ClipVault>().StoreAsync(clipId, wav, CancellationToken.None);
        var clip = await app.WithDbAsync(async db =>
        {
            var promptId = job.PromptIds[prompt];
            var slot = await db.RecordingTasks.CountAsync(t => t.PromptId == promptId);
            var task = new RecordingTask
            {
                Id = Guid.CreateVersion7(), JobId = job.Id, PromptId = promptId, Ordinal = prompt + 1, Slot = slot, TakesNeeded = 1, AcceptedTakes = 1,
            };
            db.RecordingTasks.Add(task);
            var consentId = await db.Consents.Where(c => c.JobId == job.Id && c.ContributorId == contributorId && c.WithdrawnAt == null)
                .Select(c => c.Id).FirstAsync();
            var clip = new Clip
            {
                Id = clipId,
                TakeId = Guid.CreateVersion7(),
                SessionId = sessionId,
                TaskId = task.Id,
                JobId = job.Id,
                JobVersion = job.Version,
                PromptId = promptId,
                ContributorId = contributorId,
                StorageKey = stored.StorageKey,
                Sha256 = stored.Sha256,
                SizeBytes = stored.SizeBytes,
                WrappedKey = stored.WrappedKey,
                SampleRate = 16_000,
                DurationMs = 3_200,
                CreatedAt = recordedAt ?? DateTimeOffset.UtcNow,
                ConsentId = consentId,
            };
            db.Clips.Add(clip);
            await db.SaveChangesAsync();
            return clip;
        });
        return clip;
    }

    /// <summary>What the exports feature records when a dataset export includes the clip.</summary>
    public static Task ExportedToAsync(CrowdApp app, Guid organisationId, params Clip[] clips) =>
        app.WithDbAsync(async db =>
        {
            var exportId = Guid.CreateVersion7();
            db.ClipRecipients.AddRange(clips.Select(c => new ClipRecipient
            {
                ClipId = c.Id, OrganisationId = organisationId, ExportId = exportId, ExportedAt = DateTimeOffset.UtcNow,
            }));
            await db.SaveChangesAsync();
        });

    public static async Task<Clip> ReloadAsync(CrowdApp app, Guid clipId) =>
        await app.WithDbAsync(db => db.Clips.AsNoTracking().SingleAsync(c => c.Id == clipId));

    public static async Task<byte[]?> ReadAudioAsync(CrowdApp app, Clip clip)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ClipVault>().ReadAsync(clip, CancellationToken.None);
    }

    public static string BlobPath(CrowdApp app, Clip clip) => app.Services.GetRequiredService<ClipPaths>().BlobPath(clip.StorageKey);
}
