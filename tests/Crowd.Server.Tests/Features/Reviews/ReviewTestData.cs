using System.Text.Json;
using Crowd.Audio.Wav;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Features.Recording.Tasks;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.Reviews;

/// <summary>A published, funded job with its requester, ready for clips.</summary>
public sealed record ReviewJob(TestJob Job, Guid OrganisationId, CrowdUser Requester);

public static class ReviewTestData
{
    /// <summary>360 CNY an hour: 10 fen a second, so amounts in the tests are easy to read.</summary>
    public const long RateMinor = 36_000;

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    private static int s_slot;

    public static async Task<ReviewJob> JobAsync(CrowdApp app, bool peerValidation = false, int prompts = 6)
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: prompts, hourlyRateMinor: RateMinor, adjust: j => j.PeerValidation = peerValidation);
        var org = await app.WithDbAsync(db => db.Jobs.Where(j => j.Id == job.Id).Select(j => j.OrganisationId).SingleAsync());
        var requester = await app.CreateUserAsync(Roles.Requester, organisationId: org);
        return new ReviewJob(job, org, requester);
    }

    /// <summary>
    /// A stored clip as the recorder leaves it: a real WAV (a spoken-like tone burst) encrypted in the clip store, its
    /// session, task and consent. The session has accrued <paramref name="sessionActiveMs"/> of paid time.
    /// </summary>
    public static async Task<Guid> ClipAsync(CrowdApp app, ReviewJob job, Guid contributorId, int prompt = 0, int durationMs = 6_000,
        long sessionActiveMs = 60_000, DateTimeOffset? createdAt = null)
    {
        var sessionId = await RecordingTestData.OpenSessionRowAsync(app, job.Job, contributorId);
        var clipId = Guid.CreateVersion7();
        var wav = Tone(durationMs);
        await using var scope = app.Services.CreateAsyncScope();
        var stored = await scope.ServiceProvider.GetRequiredService<ClipVault>().StoreAsync(clipId, wav, CancellationToken.None);
        await app.WithDbAsync(async db =>
        {
            var task = new RecordingTask
            {
                Id = Guid.CreateVersion7(), JobId = job.Job.Id, PromptId = job.Job.PromptIds[prompt], Ordinal = prompt + 1,
                Slot = Interlocked.Increment(ref s_slot), TakesNeeded = 1, AcceptedTakes = 1,
            };
            db.RecordingTasks.Add(task);
            var consent = await db.Consents.Where(c => c.JobId == job.Job.Id && c.ContributorId == contributorId).Select(c => c.Id).FirstAsync();
            db.Clips.Add(new Clip
            {
                Id = clipId, TakeId = Guid.CreateVersion7(), SessionId = sessionId, TaskId = task.Id, JobId = job.Job.Id, JobVersion = job.Job.Version,
                PromptId = task.PromptId, ContributorId = contributorId, StorageKey = stored.StorageKey, Sha256 = stored.Sha256,
                SizeBytes = stored.SizeBytes, WrappedKey = stored.WrappedKey, SampleRate = 16_000, DurationMs = durationMs,
                Metrics = JsonSerializer.Serialize(new { durationSeconds = durationMs / 1000.0, rmsDbfs = -20.5, snrDb = 31.2, speechRatio = 0.74, clippedRatio = 0.0 },
                    s_json),
                Verdict = """{"passed":true,"codes":[]}""",
                CreatedAt = createdAt ?? DateTimeOffset.UtcNow, ConsentId = consent, ReviewStatus = ClipReview.Waiting,
            });
            await db.SaveChangesAsync();
            // Closed, as a finished session is: the contributor's next clip gets a session of its own.
            await db.WorkerSessions.Where(s => s.Id == sessionId).ExecuteUpdateAsync(s => s
                .SetProperty(x => x.State, WorkerSessionState.Closed).SetProperty(x => x.ClosedAt, DateTimeOffset.UtcNow)
                .SetProperty(x => x.ActiveMs, sessionActiveMs));
            if (sessionActiveMs > 0)
            {
                await EarningsAccrual.AccrueAsync(db, sessionId, contributorId, job.Job.Id, sessionActiveMs, TimeProvider.System);
            }
        });
        return clipId;
    }

    /// <summary>A 220 Hz tone whose loudness rises and falls like a spoken phrase, so the waveform has a shape.</summary>
    public static byte[] Tone(int durationMs)
    {
        var samples = new float[16 * durationMs];
        for (var i = 0; i < samples.Length; i++)
        {
            var envelope = 0.5f * MathF.Abs(MathF.Sin(MathF.PI * 3 * i / samples.Length));
            samples[i] = envelope * MathF.Sin(2 * MathF.PI * 220 * i / 16_000f);
        }
        return WavWriter.Pcm16Mono(samples, 16_000);
    }
}
