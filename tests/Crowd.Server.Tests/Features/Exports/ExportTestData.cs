using Crowd.Audio.Wav;
using Crowd.Server.Features.ApiKeys;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Features.Recording.Tasks;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.Exports;

/// <summary>The server with clips in a folder of its own.</summary>
public class ExportsApp : CrowdApp
{
    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "crowd-exp-" + Guid.NewGuid().ToString("N")[..12]);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crowd:DataDirectory", DataDirectory);
    }
}

public sealed record ClipSpec(ClipReview Review = ClipReview.Accepted, bool Withdrawn = false, bool Destroyed = false);

public static class ExportTestData
{
    /// <summary>A consent for the job's current version, with or without the voice-cloning opt-in.</summary>
    public static async Task<Guid> ConsentAsync(CrowdApp app, TestJob job, Guid contributorId, bool voiceCloning = false, bool withdrawn = false)
    {
        var consent = new ConsentRecord
        {
            Id = Guid.CreateVersion7(),
            JobId = job.Id,
            JobVersion = job.Version,
            ContributorId = contributorId,
            TermsSha256 = new string('0', 64),
            GivenAt = DateTimeOffset.UtcNow,
            WithdrawnAt = withdrawn ? DateTimeOffset.UtcNow : null,
            VoiceCloning = voiceCloning,
        };
        await app.WithDbAsync(async db =>
        {
            db.Consents.Add(consent);
            await db.SaveChangesAsync();
        });
        return consent.Id;
    }

    /// <summary>A stored, encrypted clip of a prompt by a contributor under a consent, in the given review and lifecycle state.</summary>
    public static async Task<Clip> ClipAsync(CrowdApp app, TestJob job, Guid contributorId, Guid consentId, int prompt, ClipSpec? spec = null)
    {
        spec ??= new ClipSpec();
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Crowd.Server.Infrastructure.Database.CrowdDb>();
        var vault = scope.ServiceProvider.GetRequiredService<ClipVault>();
        var promptId = job.PromptIds[prompt];
        var task = await db.RecordingTasks.FirstOrDefaultAsync(t => t.PromptId == promptId && t.Slot == 0);
        if (task is null)
        {
            task = new RecordingTask { Id = Guid.CreateVersion7(), JobId = job.Id, PromptId = promptId, Ordinal = prompt + 1, Slot = 0, TakesNeeded = 100 };
            db.RecordingTasks.Add(task);
        }
        var session = await db.WorkerSessions.FirstOrDefaultAsync(s => s.JobId == job.Id && s.ContributorId == contributorId);
        var now = DateTimeOffset.UtcNow;
        if (session is null)
        {
            session = new WorkerSession
            {
                Id = Guid.CreateVersion7(), JobId = job.Id, JobVersion = job.Version, ContributorId = contributorId, State = WorkerSessionState.Open,
                StartedAt = now, LastActivityAt = now, LastCheckpointAt = now,
            };
            db.WorkerSessions.Add(session);
        }
        await db.SaveChangesAsync();

        var id = Guid.CreateVersion7();
        var wav = Wav(id, seconds: 0.5);
        var stored = await vault.StoreAsync(id, wav, default);
        var clip = new Clip
        {
            Id = id, TakeId = Guid.CreateVersion7(), SessionId = session.Id, TaskId = task.Id, JobId = job.Id, JobVersion = job.Version,
            PromptId = promptId, ContributorId = contributorId, StorageKey = stored.StorageKey, Sha256 = stored.Sha256, SizeBytes = stored.SizeBytes,
            WrappedKey = stored.WrappedKey, SampleRate = 16_000, DurationMs = 500, Metrics = """{"rmsDbfs": -21.5, "snrDb": 31.2}""",
            CreatedAt = now, ConsentId = consentId, ReviewStatus = spec.Review,
            ReviewedAt = spec.Review == ClipReview.Waiting ? null : now,
            WithdrawnAt = spec.Withdrawn ? now : null,
        };
        if (spec.Destroyed)
        {
            await vault.DeleteAsync(stored.StorageKey, default);
            clip.WrappedKey = null;
            clip.AudioDestroyedAt = now;
        }
        db.Clips.Add(clip);
        await db.SaveChangesAsync();
        return clip;
    }

    /// <summary>A job whose seven clips cover every reason to leave a clip out: 2 qualify for speech recognition, 1 of them for voice cloning.</summary>
    public static async Task<TestJob> JobWithEveryExclusionAsync(CrowdApp app)
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 5, adjust: j => j.Terms = j.Terms with { PurposeVoiceCloning = true });
        var optedIn = await RecordingTestData.ContributorAsync(app);
        var recognitionOnly = await RecordingTestData.ContributorAsync(app);
        var withdrew = await RecordingTestData.ContributorAsync(app);
        var a = await ConsentAsync(app, job, optedIn.Id, voiceCloning: true);
        var b = await ConsentAsync(app, job, recognitionOnly.Id);
        var c = await ConsentAsync(app, job, withdrew.Id, voiceCloning: true, withdrawn: true);
        await ClipAsync(app, job, optedIn.Id, a, 0);
        await ClipAsync(app, job, optedIn.Id, a, 1, new ClipSpec(ClipReview.Waiting));
        await ClipAsync(app, job, optedIn.Id, a, 2, new ClipSpec(ClipReview.Rejected));
        await ClipAsync(app, job, optedIn.Id, a, 3, new ClipSpec(Withdrawn: true));
        await ClipAsync(app, job, optedIn.Id, a, 4, new ClipSpec(Withdrawn: true, Destroyed: true));
        await ClipAsync(app, job, recognitionOnly.Id, b, 0);
        await ClipAsync(app, job, withdrew.Id, c, 0);
        return job;
    }

    /// <summary>The address of the requester who created the job (and can sign in as its organisation).</summary>
    public static async Task<string> OwnerEmailAsync(CrowdApp app, TestJob job) =>
        (await app.WithDbAsync(db => db.Jobs.Where(j => j.Id == job.Id)
            .Join(db.Users, j => j.CreatedByUserId, u => u.Id, (j, u) => u.Email).SingleAsync()))!;

    /// <summary>A short tone whose pitch depends on the clip id, so every clip's WAV (and hash) is its own.</summary>
    public static byte[] Wav(Guid id, double seconds)
    {
        var samples = new short[(int)(16_000 * seconds)];
        var frequency = 200 + (id.GetHashCode() & 0x1FF);
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = (short)(8_000 * Math.Sin(2 * Math.PI * frequency * i / 16_000.0));
        }
        return WavWriter.Pcm16Mono(samples, 16_000);
    }

    public static async Task<string> ApiKeyAsync(CrowdApp app, Guid organisationId, Guid userId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var keys = scope.ServiceProvider.GetRequiredService<ApiKeyService>();
        var (created, errors) = await keys.CreateAsync(organisationId, userId, "dataset export", default);
        errors.ShouldBeEmpty();
        return created!.Key;
    }

    public static HttpClient KeyClient(CrowdApp app, string key)
    {
        var client = app.AnonymousClient();
        client.DefaultRequestHeaders.Add(ApiKeyFormat.Header, key);
        return client;
    }
}
