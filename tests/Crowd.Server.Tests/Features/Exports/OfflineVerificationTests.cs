extern alias cli;

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using cli::Crowd.Cli.Datasets;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Exports.Datasets;
using Crowd.Server.Features.Withdrawal;
using Crowd.Server.Tests.Features.Recording;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using CliKeys = cli::Crowd.Server.Features.Exports.Datasets.PublishedKeySet;
using CliSignature = cli::Crowd.Server.Features.Exports.Datasets.DatasetSignature;

namespace Crowd.Server.Tests.Features.Exports;

public sealed class OfflineVerificationTests(ExportsApp app) : IClassFixture<ExportsApp>, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "crowd-verify-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private sealed record Downloaded(string Directory, HttpClient Http, TestJob Job, List<Crowd.Server.Features.Recording.Clips.Clip> Clips, Guid Contributor);

    private async Task<Downloaded> DownloadAsync(int clips = 3, string name = "out")
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: clips);
        var owner = await app.WithDbAsync(db => db.Jobs.Where(j => j.Id == job.Id).Select(j => new { j.OrganisationId, j.CreatedByUserId }).SingleAsync());
        var http = ExportTestData.KeyClient(app, await ExportTestData.ApiKeyAsync(app, owner.OrganisationId, owner.CreatedByUserId));
        var speaker = await RecordingTestData.ContributorAsync(app, job);
        var consent = await app.WithDbAsync(db => db.Consents.Where(c => c.JobId == job.Id && c.ContributorId == speaker.Id).Select(c => c.Id).SingleAsync());
        var stored = new List<Crowd.Server.Features.Recording.Clips.Clip>();
        for (var i = 0; i < clips; i++)
        {
            stored.Add(await ExportTestData.ClipAsync(app, job, speaker.Id, consent, i));
        }
        var directory = Path.Combine(_root, name);
        await new DatasetDownloader(http, new PlainReporter(new StringWriter())).ExportAsync(job.Id, directory, "speech-recognition", default);
        return new Downloaded(directory, http, job, stored, speaker.Id);
    }

    /// <summary>What a buyer does once: fetch the platform's public keys and keep them (here in a file of the test's own).</summary>
    private async Task<CliKeys> PinAsync(HttpClient http)
    {
        var keys = await new DatasetDownloader(http, new PlainReporter(new StringWriter())).FetchKeysAsync(default);
        var path = Path.Combine(_root, "pinned-keys.json");
        var merged = CliSignature.Merge(DatasetVerifier.ReadKeys(path), keys);
        await DatasetVerifier.WriteKeysAsync(path, merged, default);
        return DatasetVerifier.ReadKeys(path)!;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    [Fact]
    public async Task TamperingWithAnyByteOfAnyFileOrOfTheManifestFailsOfflineVerification()
    {
        var download = await DownloadAsync();
        var pinned = await PinAsync(download.Http);
        (await DatasetVerifier.VerifyAsync(download.Directory, pinned, default)).Valid.ShouldBeTrue("the untouched download verifies");

        var files = new[] { "manifest.jsonl", "manifest.tsv", "croissant.json", "DATASHEET.md", "signature.json", $"clips/{download.Clips[1].Id:D}.wav" };
        foreach (var file in files)
        {
            var length = new FileInfo(Path.Combine(download.Directory, file)).Length;
            foreach (var offset in new[] { 0L, length / 2, length - 2 })
            {
                var copy = Path.Combine(_root, $"tampered-{Guid.NewGuid():N}");
                CopyDirectory(download.Directory, copy);
                var bytes = await File.ReadAllBytesAsync(Path.Combine(copy, file));
                bytes[offset] ^= 0x01;
                await File.WriteAllBytesAsync(Path.Combine(copy, file), bytes);

                var result = await DatasetVerifier.VerifyAsync(copy, pinned, default);

                result.Valid.ShouldBeFalse($"one bit of {file} at byte {offset} changed");
            }
        }
        var deleted = Path.Combine(_root, "deleted-datasheet");
        CopyDirectory(download.Directory, deleted);
        File.Delete(Path.Combine(deleted, "DATASHEET.md"));
        (await DatasetVerifier.VerifyAsync(deleted, pinned, default)).SignatureProblem.ShouldBe("DATASHEET.md was changed after the platform signed it: do not trust it.");
    }

    [Fact]
    public async Task AForgerWhoShipsTheirOwnKeyInsideTheDownloadIsNotTrustedOnlyThePinnedKeyIs()
    {
        var download = await DownloadAsync(clips: 1);
        var pinned = await PinAsync(download.Http);
        var forged = Path.Combine(_root, "forged");
        CopyDirectory(download.Directory, forged);
        var jsonl = (await File.ReadAllTextAsync(Path.Combine(forged, "manifest.jsonl"))).Replace("Acme Speech AI", "Someone Else", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(forged, "manifest.jsonl"), jsonl);
        // The forger signs the changed files with a key of their own and replaces the bundled key set with theirs.
        var (privateKey, publicKey) = CliSignature.NewKeyPair();
        var keyId = CliSignature.KeyIdOf(publicKey, DateTimeOffset.UtcNow.AddDays(-1));
        var original = JsonSerializer.Deserialize<cli::Crowd.Server.Features.Exports.Datasets.DatasetSignatureFile>(
            await File.ReadAllTextAsync(Path.Combine(forged, "signature.json")), CliSignature.Json)!;
        var files = original.Files.Select(f => new cli::Crowd.Server.Features.Exports.Datasets.SignedFile(f.Name,
            CliSignature.Sha256(File.ReadAllBytes(Path.Combine(forged, f.Name)))));
        await File.WriteAllTextAsync(Path.Combine(forged, "signature.json"),
            CliSignature.Text(CliSignature.Sign(original.ExportId, files, keyId, privateKey, DateTimeOffset.UtcNow)));
        var theirKeys = new CliKeys(CliSignature.KeySetFormat, "Crowd voice data platform",
            [new(keyId, CliSignature.Algorithm, Convert.ToBase64String(publicKey), DateTimeOffset.UtcNow.AddDays(-1), null)], "");
        await DatasetVerifier.WriteKeysAsync(Path.Combine(forged, CliSignature.KeysFile), theirKeys, default);

        (await DatasetVerifier.VerifyAsync(forged, theirKeys, default)).Valid.ShouldBeTrue("with the forger's key the forgery is consistent");
        var result = await DatasetVerifier.VerifyAsync(forged, pinned, default);

        result.Valid.ShouldBeFalse();
        result.SignatureProblem!.ShouldStartWith("signature.json is signed by a key you have not pinned.");
    }

    [Fact]
    public async Task AManifestSignedByARetiredKeyStillVerifiesInsideItsWindowAndNotOutsideIt()
    {
        var before = await DownloadAsync(clips: 1, name: "before");
        var admin = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);
        var oldKeyId = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(before.Directory, "signature.json"))).RootElement.GetProperty("keyId").GetString();

        var rotated = await admin.PostAsync("/api/admin/dataset-keys/rotate", null);
        rotated.StatusCode.ShouldBe(HttpStatusCode.OK);
        var after = await DownloadAsync(clips: 1, name: "after");
        var pinned = await PinAsync(after.Http);

        var retired = pinned.Keys.Single(k => k.KeyId == oldKeyId);
        retired.ValidUntil.ShouldNotBeNull("rotation closed the old key's window");
        JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(after.Directory, "signature.json"))).RootElement.GetProperty("keyId").GetString()
            .ShouldNotBe(oldKeyId);
        (await DatasetVerifier.VerifyAsync(before.Directory, pinned, default)).Valid.ShouldBeTrue("signed by the retired key inside its window");
        (await DatasetVerifier.VerifyAsync(after.Directory, pinned, default)).Valid.ShouldBeTrue();

        // A signature the retired key would make now, after its window closed, is refused.
        var (privateKey, publicKey) = DatasetSignature.NewKeyPair();
        var windowClosed = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var keys = new PublishedKeySet(DatasetSignature.KeySetFormat, "test",
            [new("k1", DatasetSignature.Algorithm, Convert.ToBase64String(publicKey), windowClosed.AddYears(-1), windowClosed)], "");
        var late = DatasetSignature.Sign(Guid.NewGuid(), [new SignedFile("a", DatasetSignature.Sha256("a"))], "k1", privateKey, windowClosed.AddSeconds(1));
        var inside = DatasetSignature.Sign(Guid.NewGuid(), [new SignedFile("a", DatasetSignature.Sha256("a"))], "k1", privateKey, windowClosed.AddSeconds(-1));
        DatasetSignature.Verify(DatasetSignature.Text(late), keys, _ => "a"u8.ToArray()).Problem.ShouldBe(SignatureProblem.OutsideKeyWindow);
        DatasetSignature.Verify(DatasetSignature.Text(inside), keys, _ => "a"u8.ToArray()).Valid.ShouldBeTrue();
    }

    [Fact]
    public async Task SigningKeysAreStoredOnlyWrappedAndThePublishedKeyIsTheOneThatSigns()
    {
        var download = await DownloadAsync(clips: 1);
        var rows = await app.WithDbAsync(db => db.Set<DatasetSigningKey>().AsNoTracking().ToListAsync());
        var published = (await app.AnonymousClient().GetFromJsonAsync<PublishedKeySet>("/.well-known/crowd-dataset-keys.json"))!;

        published.Rotation.ShouldContain("POST /api/admin/dataset-keys/rotate");
        foreach (var row in rows)
        {
            row.WrappedPrivateKey.Length.ShouldBe(12 + 16 + 32, "nonce, tag and the encrypted 32-byte seed");
            var clearSeedWouldSign = DatasetSignature.Sign(Guid.Empty, [], row.KeyId, row.WrappedPrivateKey.AsSpan(28, 32), DateTimeOffset.UtcNow);
            DatasetSignature.Verify(DatasetSignature.Text(clearSeedWouldSign), published, _ => null).Valid.ShouldBeFalse("the stored bytes are not the key");
            await using var scope = app.Services.CreateAsyncScope();
            var unwrapped = scope.ServiceProvider.GetRequiredService<ExportKeys>().Unwrap(row.WrappedPrivateKey, row.KeyId);
            var signed = DatasetSignature.Sign(Guid.Empty, [], row.KeyId, unwrapped, row.ValidFrom);
            DatasetSignature.Verify(DatasetSignature.Text(signed), published, _ => null).Valid.ShouldBeTrue("unwrapped with the master key, it is the published key");
        }
        (await DatasetVerifier.VerifyAsync(download.Directory, await PinAsync(download.Http), default)).Valid.ShouldBeTrue();
    }

    [Fact]
    public async Task CroissantJsonHasTheRequiredFieldsAndItsCountsAndHashesEqualTheManifests()
    {
        var download = await DownloadAsync(clips: 4);
        using var croissant = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(download.Directory, "croissant.json")));
        var root = croissant.RootElement;
        var jsonl = await File.ReadAllTextAsync(Path.Combine(download.Directory, "manifest.jsonl"));
        var lines = jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        var header = lines[0];
        var clips = lines.Skip(1).ToList();

        root.GetProperty("@context").GetProperty("cr").GetString().ShouldBe("http://mlcommons.org/croissant/");
        root.GetProperty("@context").GetProperty("rai").GetString().ShouldBe("http://mlcommons.org/croissant/RAI/");
        root.GetProperty("@type").GetString().ShouldBe("sc:Dataset");
        root.GetProperty("conformsTo").GetString().ShouldBe("http://mlcommons.org/croissant/1.0");
        foreach (var field in new[] { "name", "description", "license", "url", "datePublished" })
        {
            root.GetProperty(field).GetString().ShouldNotBeNullOrWhiteSpace(field);
        }
        Uri.IsWellFormedUriString(root.GetProperty("url").GetString(), UriKind.Absolute).ShouldBeTrue();
        root.GetProperty("creator").GetProperty("name").GetString().ShouldNotBeNullOrWhiteSpace();
        root.GetProperty("license").GetString().ShouldBe(header.GetProperty("licence").GetString());
        DateTimeOffset.Parse(root.GetProperty("datePublished").GetString()!, System.Globalization.CultureInfo.InvariantCulture).ShouldBe(
            header.GetProperty("createdAt").GetDateTimeOffset(), TimeSpan.FromSeconds(1));
        foreach (var rai in new[] { "rai:dataCollection", "rai:dataCollectionType", "rai:personalSensitiveInformation", "rai:dataUseCases", "rai:dataLimitations", "rai:dataReleaseMaintenancePlan" })
        {
            root.TryGetProperty(rai, out _).ShouldBeTrue(rai);
        }

        var distribution = root.GetProperty("distribution").EnumerateArray().ToList();
        distribution.ShouldAllBe(d => d.GetProperty("@type").GetString() == "cr:FileObject" || d.GetProperty("@type").GetString() == "cr:FileSet");
        string Sha(string id) => distribution.Single(d => d.GetProperty("@id").GetString() == id).GetProperty("sha256").GetString()!;
        Sha("manifest.jsonl").ShouldBe(DatasetSignature.Sha256(await File.ReadAllBytesAsync(Path.Combine(download.Directory, "manifest.jsonl"))));
        Sha("manifest.tsv").ShouldBe(DatasetSignature.Sha256(await File.ReadAllBytesAsync(Path.Combine(download.Directory, "manifest.tsv"))));
        var clipFiles = distribution.Where(d => d.GetProperty("@id").GetString()!.StartsWith("clips/", StringComparison.Ordinal)).ToList();
        clipFiles.Count.ShouldBe(header.GetProperty("clipCount").GetInt32());
        clipFiles.Count.ShouldBe(clips.Count);
        foreach (var clip in clips)
        {
            Sha(clip.GetProperty("file").GetString()!).ShouldBe(clip.GetProperty("sha256").GetString());
        }
        distribution.Single(d => d.GetProperty("@type").GetString() == "cr:FileSet").GetProperty("includes").GetString().ShouldBe("clips/*.wav");

        var recordSet = root.GetProperty("recordSet").EnumerateArray().ShouldHaveSingleItem();
        recordSet.GetProperty("@type").GetString().ShouldBe("cr:RecordSet");
        var columns = (await File.ReadAllLinesAsync(Path.Combine(download.Directory, "manifest.tsv"))).First(l => !l.StartsWith('#')).Split('\t');
        var fields = recordSet.GetProperty("field").EnumerateArray().ToList();
        fields.Where(f => f.GetProperty("source").TryGetProperty("fileObject", out _))
            .Select(f => f.GetProperty("source").GetProperty("extract").GetProperty("column").GetString()).ShouldBe(columns, ignoreOrder: true);
        fields.ShouldContain(f => f.GetProperty("dataType").GetString() == "sc:AudioObject");

        var datasheet = await File.ReadAllTextAsync(Path.Combine(download.Directory, "DATASHEET.md"));
        foreach (var section in new[] { "## Motivation", "## Composition", "## Collection process", "## Preprocessing", "## Uses", "## Distribution", "## Maintenance" })
        {
            datasheet.ShouldContain(section);
        }
        datasheet.ShouldContain("30.00 CNY per hour");
        datasheet.ShouldContain("27.70 CNY", Case.Sensitive, "the floor the rate was checked against");
        datasheet.ShouldContain($"{clips.Count} clips");
        datasheet.ShouldContain("Acme Speech AI");
    }

    [Fact]
    public async Task AClipWithdrawnAfterTheExportIsInTheSignedFeedAndSyncRemovesItAndReverifiesTheRest()
    {
        var download = await DownloadAsync(clips: 3);
        var pinned = await PinAsync(download.Http);
        var withdrawn = download.Clips[1];
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<WithdrawalService>().WithdrawClipAsync(download.Contributor, withdrawn.Id, default);
        }

        var response = await download.Http.GetAsync("/api/datasets/deletions?since=0");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var signed = (await response.Content.ReadFromJsonAsync<SignedFeed>())!;
        var (verdict, page) = DatasetSignature.VerifyFeed(signed, (await app.AnonymousClient().GetFromJsonAsync<PublishedKeySet>("/.well-known/crowd-dataset-keys.json"))!);
        verdict.Valid.ShouldBeTrue();
        var entry = page!.Entries.ShouldHaveSingleItem();
        (entry.ClipId, entry.Reason).ShouldBe((withdrawn.Id, "withdrawal"));
        var exportId = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(download.Directory, "export.json"))).RootElement.GetProperty("exportId").GetGuid();
        entry.ExportId.ShouldBe(exportId);
        var forged = signed with { Feed = signed.Feed.Replace(withdrawn.Id.ToString("D"), download.Clips[0].Id.ToString("D"), StringComparison.Ordinal) };
        DatasetSignature.VerifyFeed(forged, (await app.AnonymousClient().GetFromJsonAsync<PublishedKeySet>("/.well-known/crowd-dataset-keys.json"))!)
            .Verdict.Problem.ShouldBe(SignatureProblem.SignatureInvalid, "a changed feed does not verify");
        (await download.Http.GetFromJsonAsync<SignedFeed>($"/api/datasets/deletions?since={page.Next}"))!.Feed.ShouldContain("\"entries\": []");
        var bad = await download.Http.GetAsync("/api/datasets/deletions?since=-1");
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await bad.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys.ShouldBe(["since"]);
        await Should.ThrowAsync<Npgsql.PostgresException>(() => app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DELETE FROM dataset_deletions")));

        var (removed, verified) = await new DatasetDownloader(download.Http, new PlainReporter(new StringWriter())).SyncAsync(download.Directory, pinned, default);

        removed.ShouldBe(1);
        File.Exists(Path.Combine(download.Directory, "clips", $"{withdrawn.Id:D}.wav")).ShouldBeFalse();
        (await File.ReadAllTextAsync(Path.Combine(download.Directory, "withdrawn.txt"))).Trim().ShouldBe(withdrawn.Id.ToString("D"));
        verified.Valid.ShouldBeTrue();
        (verified.Clips, verified.Withdrawn).ShouldBe((3, 1));
        File.Exists(Path.Combine(download.Directory, "clips", $"{download.Clips[0].Id:D}.wav")).ShouldBeTrue();
        (await new DatasetDownloader(download.Http, new PlainReporter(new StringWriter())).SyncAsync(download.Directory, pinned, default)).Removed
            .ShouldBe(0, "a second sync continues after the last entry it applied");
    }
}
