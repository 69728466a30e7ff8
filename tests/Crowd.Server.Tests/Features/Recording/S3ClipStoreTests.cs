extern alias cli;

using System.Security.Cryptography;
using cli::Crowd.Cli.Datasets;
using Crowd.Server.Features.Exports.Datasets;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Withdrawal;
using Crowd.Server.Tests.Features.Exports;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.Recording;

/// <summary>The server with its clips in a bucket of a real S3-compatible server (s3rver) instead of a directory.</summary>
public sealed class S3App : ExportsApp
{
    public S3rver S3 { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        S3 = await S3rver.StartAsync();
        await base.InitializeAsync();
        await ((S3ClipStore)Services.GetRequiredService<IClipStore>()).EnsureBucketAsync(default);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crowd:Clips:S3:Endpoint", S3.Endpoint.ToString());
        builder.UseSetting("Crowd:Clips:S3:Bucket", "crowd-clips-test");
        builder.UseSetting("Crowd:Clips:S3:AccessKey", S3rver.AccessKey);
        builder.UseSetting("Crowd:Clips:S3:SecretKey", S3rver.SecretKey);
        builder.UseSetting("Crowd:Clips:S3:Prefix", "node-a");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await S3.DisposeAsync();
    }
}

public sealed class S3ClipStoreTests(S3App app) : IClassFixture<S3App>, IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "crowd-s3-export-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Fact]
    public async Task AClipStoredInTheBucketReadsBackByteIdenticalAndTheBucketHoldsOnlyCiphertext()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<IClipStore>();
        var vault = scope.ServiceProvider.GetRequiredService<ClipVault>();
        store.ShouldBeOfType<S3ClipStore>();
        var id = Guid.CreateVersion7();
        var wav = ExportTestData.Wav(id, seconds: 3);

        var stored = await vault.StoreAsync(id, wav, default);
        var clip = new Clip { Id = id, StorageKey = stored.StorageKey, WrappedKey = stored.WrappedKey };

        (await vault.ReadAsync(clip, default)).ShouldBe(wav, "byte for byte");
        var blob = (await store.ReadAsync(stored.StorageKey, default))!;
        blob.Length.ShouldBe(wav.Length + 1 + 12 + 16, "version, nonce and tag, and not one byte more: no chunk signatures inside the object");
        blob.AsSpan().IndexOf(wav.AsSpan(44, 64)).ShouldBe(-1, "the bucket never sees the audio in clear");
        Directory.EnumerateFiles(app.S3.Directory, "*", SearchOption.AllDirectories).ShouldContain(f => f.Contains("node-a", StringComparison.Ordinal),
            "objects are under the configured prefix");
        (await store.ReadAsync("00/not-there.clip", default)).ShouldBeNull();
        await store.DeleteAsync("00/not-there.clip", default);
    }

    [Fact]
    public async Task WithdrawingShredsAClipInTheBucketExactlyAsOnDiskAndTheExportPathReadsThroughTheBucket()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 3);
        var owner = await app.WithDbAsync(db => db.Jobs.Where(j => j.Id == job.Id).Select(j => new { j.OrganisationId, j.CreatedByUserId }).SingleAsync());
        var http = ExportTestData.KeyClient(app, await ExportTestData.ApiKeyAsync(app, owner.OrganisationId, owner.CreatedByUserId));
        var speaker = await RecordingTestData.ContributorAsync(app, job);
        var consent = await app.WithDbAsync(db => db.Consents.Where(c => c.JobId == job.Id && c.ContributorId == speaker.Id).Select(c => c.Id).SingleAsync());
        var clips = new List<Clip>();
        for (var i = 0; i < 3; i++)
        {
            clips.Add(await ExportTestData.ClipAsync(app, job, speaker.Id, consent, i));
        }

        var export = await new DatasetDownloader(http, new PlainReporter(new StringWriter())).ExportAsync(job.Id, _out, "speech-recognition", default);
        export.Downloaded.ShouldBe(3);
        foreach (var clip in clips)
        {
            Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(_out, "clips", $"{clip.Id:D}.wav")))).ShouldBe(clip.Sha256);
        }

        await using var scope = app.Services.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<IClipStore>();
        var target = clips[0];
        var copyBeforeWithdrawal = (await store.ReadAsync(target.StorageKey, default))!;
        await scope.ServiceProvider.GetRequiredService<WithdrawalService>().WithdrawClipAsync(speaker.Id, target.Id, default);

        var after = await app.WithDbAsync(db => db.Clips.AsNoTracking().SingleAsync(c => c.Id == target.Id));
        after.WrappedKey.ShouldBeNull("the key is destroyed");
        (await store.ReadAsync(target.StorageKey, default)).ShouldBeNull("the object is deleted from the bucket");
        (await app.WithDbAsync(db => db.Set<ClipFileDeletion>().SingleAsync(d => d.ClipId == target.Id))).DeletedAt.ShouldNotBeNull();
        Should.Throw<CryptographicException>(() => ClipCrypto.Decrypt(copyBeforeWithdrawal, target.WrappedKey!, target.Id, RandomNumberGenerator.GetBytes(32)),
            "a copy of the object taken earlier is ciphertext whose key no longer exists");
        (await scope.ServiceProvider.GetRequiredService<ClipVault>().ReadAsync(after, default)).ShouldBeNull();
        var exportId = (await app.WithDbAsync(db => db.ClipRecipients.FirstAsync(r => r.ClipId == target.Id))).ExportId;
        (await scope.ServiceProvider.GetRequiredService<DatasetExporter>().ReadClipAsync(owner.OrganisationId, exportId, target.Id, default)).Kind
            .ShouldBe(ClipReadKind.Gone);
        (await scope.ServiceProvider.GetRequiredService<DatasetExporter>().ReadClipAsync(owner.OrganisationId, exportId, clips[1].Id, default)).Wav!
            .ShouldBe(await File.ReadAllBytesAsync(Path.Combine(_out, "clips", $"{clips[1].Id:D}.wav")));
    }
}
