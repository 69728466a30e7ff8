using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Crowd.Server.Features.Exports.Datasets;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.Exports;

public sealed class DatasetExportTests(ExportsApp app) : IClassFixture<ExportsApp>
{
    private sealed record Buyer(TestJob Job, HttpClient Client, Guid OrganisationId);

    private async Task<Buyer> JobAsync(int prompts = 8, bool voiceCloning = true)
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts, adjust: j => j.Terms = j.Terms with { PurposeVoiceCloning = voiceCloning });
        var owner = await app.WithDbAsync(db => db.Jobs.Where(j => j.Id == job.Id).Select(j => new { j.OrganisationId, j.CreatedByUserId }).SingleAsync());
        var key = await ExportTestData.ApiKeyAsync(app, owner.OrganisationId, owner.CreatedByUserId);
        return new Buyer(job, ExportTestData.KeyClient(app, key), owner.OrganisationId);
    }

    private static async Task<DatasetExportResponse> ExportAsync(Buyer buyer, string use = "speech-recognition")
    {
        var response = await buyer.Client.PostAsJsonAsync($"/api/jobs/{buyer.Job.Id}/datasets", new { use });
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<DatasetExportResponse>())!;
    }

    private static async Task<List<JsonElement>> ManifestClipsAsync(Buyer buyer, Guid exportId)
    {
        var jsonl = await buyer.Client.GetStringAsync($"/api/datasets/{exportId}/manifest.jsonl");
        return jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    [Fact]
    public async Task ExportsCarryOnlyAcceptedClipsWhoseConsentIsLiveAndCoversTheDeclaredUse()
    {
        var buyer = await JobAsync();
        var cloningOptIn = await RecordingTestData.ContributorAsync(app);
        var recognitionOnly = await RecordingTestData.ContributorAsync(app);
        var withdrewConsent = await RecordingTestData.ContributorAsync(app);
        var a = await ExportTestData.ConsentAsync(app, buyer.Job, cloningOptIn.Id, voiceCloning: true);
        var b = await ExportTestData.ConsentAsync(app, buyer.Job, recognitionOnly.Id);
        var c = await ExportTestData.ConsentAsync(app, buyer.Job, withdrewConsent.Id, voiceCloning: true, withdrawn: true);

        var accepted = await ExportTestData.ClipAsync(app, buyer.Job, cloningOptIn.Id, a, 0);
        await ExportTestData.ClipAsync(app, buyer.Job, cloningOptIn.Id, a, 1, new ClipSpec(ClipReview.Waiting));
        await ExportTestData.ClipAsync(app, buyer.Job, cloningOptIn.Id, a, 2, new ClipSpec(ClipReview.Rejected));
        await ExportTestData.ClipAsync(app, buyer.Job, cloningOptIn.Id, a, 3, new ClipSpec(Withdrawn: true));
        await ExportTestData.ClipAsync(app, buyer.Job, cloningOptIn.Id, a, 4, new ClipSpec(Withdrawn: true, Destroyed: true));
        var recognitionClip = await ExportTestData.ClipAsync(app, buyer.Job, recognitionOnly.Id, b, 0);
        await ExportTestData.ClipAsync(app, buyer.Job, withdrewConsent.Id, c, 0);

        var recognition = await ExportAsync(buyer, "speech-recognition");
        var cloning = await ExportAsync(buyer, "voice-cloning");

        recognition.ClipCount.ShouldBe(2);
        (await ManifestClipsAsync(buyer, recognition.Id)).Select(l => l.GetProperty("clipId").GetGuid())
            .ShouldBe([accepted.Id, recognitionClip.Id], ignoreOrder: true);
        cloning.ClipCount.ShouldBe(1, "only the speaker who opted in to voice cloning");
        var cloned = (await ManifestClipsAsync(buyer, cloning.Id)).ShouldHaveSingleItem();
        cloned.GetProperty("clipId").GetGuid().ShouldBe(accepted.Id);
        cloned.GetProperty("purposes").EnumerateArray().Select(p => p.GetString()).ShouldBe(["speech-recognition", "voice-cloning"]);
        cloned.GetProperty("consentId").GetGuid().ShouldBe(a);
        cloned.GetProperty("consentJobVersion").GetInt32().ShouldBe(1);
        cloned.GetProperty("sha256").GetString().ShouldBe(accepted.Sha256);
        cloned.GetProperty("metrics").GetProperty("snrDb").GetDouble().ShouldBe(31.2);
        cloned.GetProperty("prompt").GetString()!.ShouldStartWith("Sentence number 1");

        var recipients = await app.WithDbAsync(db => db.ClipRecipients.Where(r => r.ExportId == recognition.Id).ToListAsync());
        recipients.Select(r => r.ClipId).ShouldBe([accepted.Id, recognitionClip.Id], ignoreOrder: true);
        recipients.ShouldAllBe(r => r.OrganisationId == buyer.OrganisationId);
        var audit = await app.WithDbAsync(db => db.AuditLog.Where(e => e.SubjectId == recognition.Id.ToString()).ToListAsync());
        audit.Select(e => (e.Action, e.Reason, e.ActorKind)).ShouldBe([("dataset.exported", "dataset export", "apikey"), ("audio.read", "dataset export", "apikey")], ignoreOrder: true);
        audit[0].Details.ShouldContain("\"clipCount\":2");
    }

    [Fact]
    public async Task EachClipIsExportedOnlyForThePurposesOfTheJobVersionItsSpeakerConsentedTo()
    {
        // Version 1 asked only for voice cloning; version 2 added speech recognition.
        var v1 = await RecordingTestData.PublishedJobAsync(app, prompts: 4, adjust: j => j.Terms = j.Terms with { PurposeSpeechRecognition = false, PurposeVoiceCloning = true });
        var owner = await app.WithDbAsync(db => db.Jobs.Where(j => j.Id == v1.Id).Select(j => new { j.OrganisationId, j.CreatedByUserId }).SingleAsync());
        var buyer = new Buyer(v1, ExportTestData.KeyClient(app, await ExportTestData.ApiKeyAsync(app, owner.OrganisationId, owner.CreatedByUserId)),
            owner.OrganisationId);
        var underV1 = await RecordingTestData.ContributorAsync(app);
        var v1Clip = await ExportTestData.ClipAsync(app, v1, underV1.Id, await ExportTestData.ConsentAsync(app, v1, underV1.Id, voiceCloning: true), 0);
        await app.WithDbAsync(async db =>
        {
            await db.Jobs.Where(j => j.Id == v1.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.Version, 2).SetProperty(j => j.Terms.PurposeSpeechRecognition, true));
            db.JobVersions.Add(new Crowd.Server.Features.Jobs.JobVersion
            {
                JobId = v1.Id, Version = 2, TermsJson = "{}", TermsSha256 = new string('2', 64), PublishedAt = DateTimeOffset.UtcNow,
                PurposeSpeechRecognition = true, PurposeVoiceCloning = true,
            });
            await db.SaveChangesAsync();
        });
        var v2 = v1 with { Version = 2 };
        var underV2 = await RecordingTestData.ContributorAsync(app);
        var v2Clip = await ExportTestData.ClipAsync(app, v2, underV2.Id, await ExportTestData.ConsentAsync(app, v2, underV2.Id, voiceCloning: true), 1);

        var recognition = await ExportAsync(buyer, "speech-recognition");
        var cloning = await ExportAsync(buyer, "voice-cloning");

        (await ManifestClipsAsync(buyer, recognition.Id)).Select(l => l.GetProperty("clipId").GetGuid())
            .ShouldBe([v2Clip.Id], "the version-1 speaker never consented to speech recognition, whatever the job asks now");
        var cloned = await ManifestClipsAsync(buyer, cloning.Id);
        cloned.Select(l => l.GetProperty("clipId").GetGuid()).ShouldBe([v1Clip.Id, v2Clip.Id], ignoreOrder: true);
        cloned.Single(l => l.GetProperty("clipId").GetGuid() == v1Clip.Id).GetProperty("purposes").EnumerateArray().Select(p => p.GetString())
            .ShouldBe(["voice-cloning"]);
        DatasetRules.IsExportable(new ClipConsentFacts(ClipReview.Accepted, false, false, false, true, false, true), DatasetUse.SpeechRecognition)
            .ShouldBeFalse();
    }

    [Fact]
    public async Task TheQueryAndThePureRuleAgreeOnEveryCombinationOfClipAndConsentState()
    {
        var buyer = await JobAsync(prompts: 12);
        var expected = new Dictionary<DatasetUse, List<Guid>> { [DatasetUse.SpeechRecognition] = [], [DatasetUse.VoiceCloning] = [] };
        foreach (var (optIn, consentWithdrawn) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            var speaker = await RecordingTestData.ContributorAsync(app);
            var consent = await ExportTestData.ConsentAsync(app, buyer.Job, speaker.Id, optIn, consentWithdrawn);
            var prompt = 0;
            foreach (var review in Enum.GetValues<ClipReview>())
            {
                foreach (var (withdrawn, destroyed) in new[] { (false, false), (true, false), (true, true), (false, true) })
                {
                    var clip = await ExportTestData.ClipAsync(app, buyer.Job, speaker.Id, consent, prompt++, new ClipSpec(review, withdrawn, destroyed));
                    foreach (var use in expected.Keys)
                    {
                        if (DatasetRules.IsExportable(new ClipConsentFacts(review, withdrawn, destroyed, consentWithdrawn, optIn, true, true), use))
                        {
                            expected[use].Add(clip.Id);
                        }
                    }
                }
            }
        }

        foreach (var (use, ids) in expected)
        {
            var rows = await app.WithDbAsync(db => DatasetExporter.ExportableClipsAsync(db, buyer.Job.Id, use, default));
            rows.Select(r => r.Id).ShouldBe(ids, ignoreOrder: true, customMessage: use.ToString());
        }
        expected[DatasetUse.SpeechRecognition].Count.ShouldBe(2, "accepted, kept and live, with or without the voice-cloning opt-in");
        expected[DatasetUse.VoiceCloning].Count.ShouldBe(1);
    }

    [Fact]
    public async Task AnotherOrganisationCannotExportTheJobOrReadItsExportAndNothingIsWritten()
    {
        var owner = await JobAsync();
        var speaker = await RecordingTestData.ContributorAsync(app);
        var consent = await ExportTestData.ConsentAsync(app, owner.Job, speaker.Id);
        var clip = await ExportTestData.ClipAsync(app, owner.Job, speaker.Id, consent, 0);
        var export = await ExportAsync(owner);
        var intruder = await JobAsync();
        var before = await CountsAsync();

        var refused = await intruder.Client.PostAsJsonAsync($"/api/jobs/{owner.Job.Id}/datasets", new { use = "speech-recognition" });

        refused.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var problem = (await refused.Content.ReadFromJsonAsync<ProblemDetails>())!;
        problem.Title.ShouldBe("Job not found");
        problem.Detail.ShouldBe("No job with this id belongs to your organisation.");
        (await CountsAsync()).ShouldBe(before);
        (await intruder.Client.GetAsync($"/api/datasets/{export.Id}/manifest.jsonl")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await intruder.Client.GetAsync($"/api/datasets/{export.Id}/clips/{clip.Id}.wav")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var contributor = await app.SignedInClientAsync(speaker.Email!);
        (await contributor.PostAsJsonAsync($"/api/jobs/{owner.Job.Id}/datasets", new { use = "speech-recognition" })).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task AUseTheJobNeverAskedConsentForIsRefusedAndNothingIsWritten()
    {
        var buyer = await JobAsync(voiceCloning: false);
        var speaker = await RecordingTestData.ContributorAsync(app);
        var consent = await ExportTestData.ConsentAsync(app, buyer.Job, speaker.Id, voiceCloning: true);
        await ExportTestData.ClipAsync(app, buyer.Job, speaker.Id, consent, 0);
        var before = await CountsAsync();

        var refused = await buyer.Client.PostAsJsonAsync($"/api/jobs/{buyer.Job.Id}/datasets", new { use = "voice-cloning" });
        var unknown = await buyer.Client.PostAsJsonAsync($"/api/jobs/{buyer.Job.Id}/datasets", new { use = "marketing" });

        refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await refused.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail
            .ShouldBe("This job's contributors were not asked to consent to voice-cloning, so none of its clips can be exported for it.");
        unknown.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await unknown.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["use"]
            .ShouldBe(["Declare the use as \"speech-recognition\" or \"voice-cloning\"."]);
        (await CountsAsync()).ShouldBe(before);
    }

    [Fact]
    public async Task ATamperedManifestIsRefusedWithAProblemThatSaysWhichFileChanged()
    {
        var buyer = await JobAsync();
        var speaker = await RecordingTestData.ContributorAsync(app);
        var consent = await ExportTestData.ConsentAsync(app, buyer.Job, speaker.Id);
        await ExportTestData.ClipAsync(app, buyer.Job, speaker.Id, consent, 0);
        await ExportTestData.ClipAsync(app, buyer.Job, speaker.Id, consent, 1);
        var export = await ExportAsync(buyer);
        var jsonl = await buyer.Client.GetStringAsync(export.ManifestJsonl);
        var tsv = await buyer.Client.GetStringAsync(export.ManifestTsv);
        var signature = await buyer.Client.GetStringAsync(export.Signature);
        jsonl.ShouldContain("\"buyerName\":\"Acme Speech AI\"");
        tsv.ShouldContain("# licence ");

        var genuine = await buyer.Client.PostAsJsonAsync("/api/datasets/verify", new { manifestJsonl = jsonl, manifestTsv = tsv, signature });
        genuine.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await genuine.Content.ReadFromJsonAsync<VerifyManifestResponse>())!.Buyer.BuyerName.ShouldBe("Acme Speech AI");

        var otherBuyer = jsonl.Replace("\"buyerName\":\"Acme Speech AI\"", "\"buyerName\":\"Someone Else\"", StringComparison.Ordinal);
        var morePurposes = tsv.Replace("\tspeech-recognition\t", "\tspeech-recognition,voice-cloning\t", StringComparison.Ordinal);
        var forged = signature.Replace(signature.Split('"')[^2], new string('0', 64), StringComparison.Ordinal);

        await ShouldBeRefusedAsync(buyer, otherBuyer, tsv, signature, "manifest.jsonl was changed after the platform signed it: do not trust its clips, buyer or purposes.");
        await ShouldBeRefusedAsync(buyer, jsonl, morePurposes, signature, "manifest.tsv was changed after the platform signed it: do not trust its clips, buyer or purposes.");
        await ShouldBeRefusedAsync(buyer, jsonl, tsv, forged, "signature.json was not made by this platform, or was changed: the manifest cannot be trusted.");
        (await buyer.Client.GetStringAsync(export.ManifestJsonl)).ShouldBe(jsonl, "verifying changes nothing");
    }

    [Fact]
    public async Task ExportsSignedBeforeEd25519WithTheHmacStillVerifyAtThePlatform()
    {
        var buyer = await JobAsync();
        var speaker = await RecordingTestData.ContributorAsync(app);
        await ExportTestData.ClipAsync(app, buyer.Job, speaker.Id, await ExportTestData.ConsentAsync(app, buyer.Job, speaker.Id), 0);
        var export = await ExportAsync(buyer);
        var jsonl = await buyer.Client.GetStringAsync(export.ManifestJsonl);
        var tsv = await buyer.Client.GetStringAsync(export.ManifestTsv);
        var key = app.Services.GetRequiredService<ExportKeys>().SigningKey.ToArray();
        string Sha(string text) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
        string Legacy(string signedJsonl) => JsonSerializer.Serialize(new ManifestSignature("crowd-dataset-signature/1", export.Id, "HMAC-SHA256", Sha(signedJsonl), Sha(tsv),
            Convert.ToHexStringLower(HMACSHA256.HashData(key, System.Text.Encoding.UTF8.GetBytes($"crowd-dataset/1\n{export.Id:D}\n{Sha(signedJsonl)}\n{Sha(tsv)}")))),
            DatasetManifest.Json);

        (await buyer.Client.PostAsJsonAsync("/api/datasets/verify", new { manifestJsonl = jsonl, manifestTsv = tsv, signature = Legacy(jsonl) }))
            .StatusCode.ShouldBe(HttpStatusCode.OK);
        await ShouldBeRefusedAsync(buyer, jsonl.Replace("Acme Speech AI", "Someone Else", StringComparison.Ordinal), tsv, Legacy(jsonl),
            "manifest.jsonl was changed after the platform signed it: do not trust its clips, buyer or purposes.");
    }

    private static async Task ShouldBeRefusedAsync(Buyer buyer, string jsonl, string tsv, string signature, string detail)
    {
        var response = await buyer.Client.PostAsJsonAsync("/api/datasets/verify", new { manifestJsonl = jsonl, manifestTsv = tsv, signature });
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = (await response.Content.ReadFromJsonAsync<ProblemDetails>())!;
        problem.Title.ShouldBe("Manifest not authentic");
        problem.Detail.ShouldBe(detail);
    }

    [Fact]
    public async Task ASpeakersPseudonymIsStableWithinAJobAndDifferentInAnotherJob()
    {
        var first = await JobAsync();
        var second = await JobAsync();
        var speaker = await RecordingTestData.ContributorAsync(app);
        var other = await RecordingTestData.ContributorAsync(app);
        var c1 = await ExportTestData.ConsentAsync(app, first.Job, speaker.Id);
        var c2 = await ExportTestData.ConsentAsync(app, second.Job, speaker.Id);
        var c3 = await ExportTestData.ConsentAsync(app, first.Job, other.Id);
        await ExportTestData.ClipAsync(app, first.Job, speaker.Id, c1, 0);
        await ExportTestData.ClipAsync(app, first.Job, speaker.Id, c1, 1);
        await ExportTestData.ClipAsync(app, first.Job, other.Id, c3, 0);
        await ExportTestData.ClipAsync(app, second.Job, speaker.Id, c2, 0);

        var inFirst = await ManifestClipsAsync(first, (await ExportAsync(first)).Id);
        var again = await ManifestClipsAsync(first, (await ExportAsync(first)).Id);
        var inSecond = await ManifestClipsAsync(second, (await ExportAsync(second)).Id);

        string Speaker(List<JsonElement> lines, Guid consentId) =>
            lines.Where(l => l.GetProperty("consentId").GetGuid() == consentId).Select(l => l.GetProperty("speaker").GetString()!).Distinct().ShouldHaveSingleItem();
        var pseudonym = Speaker(inFirst, c1);
        pseudonym.ShouldMatch("^spk_[0-9a-f]{32}$");
        Speaker(again, c1).ShouldBe(pseudonym, "the same speaker, the same job, another export");
        Speaker(inFirst, c3).ShouldNotBe(pseudonym);
        Speaker(inSecond, c2).ShouldNotBe(pseudonym, "another job gets another pseudonym");
        var manifest = await first.Client.GetStringAsync($"/api/datasets/{(await ExportAsync(first)).Id}/manifest.jsonl");
        manifest.ShouldNotContain(speaker.Id.ToString());
        manifest.ShouldNotContain(speaker.Email!);
    }

    [Fact]
    public async Task ClipsDownloadDecryptedWithRangesAndAClipWithdrawnAfterTheExportIsGone()
    {
        var buyer = await JobAsync();
        var speaker = await RecordingTestData.ContributorAsync(app);
        var consent = await ExportTestData.ConsentAsync(app, buyer.Job, speaker.Id);
        var kept = await ExportTestData.ClipAsync(app, buyer.Job, speaker.Id, consent, 0);
        var withdrawn = await ExportTestData.ClipAsync(app, buyer.Job, speaker.Id, consent, 1);
        var export = await ExportAsync(buyer);
        await app.WithDbAsync(db => db.Clips.Where(c => c.Id == withdrawn.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.WithdrawnAt, DateTimeOffset.UtcNow)));

        var whole = await buyer.Client.GetByteArrayAsync($"/api/datasets/{export.Id}/clips/{kept.Id}.wav");
        Convert.ToHexStringLower(SHA256.HashData(whole)).ShouldBe(kept.Sha256);
        using var ranged = new HttpRequestMessage(HttpMethod.Get, $"/api/datasets/{export.Id}/clips/{kept.Id}.wav");
        ranged.Headers.Range = new RangeHeaderValue(100, null);
        var rest = await buyer.Client.SendAsync(ranged);
        rest.StatusCode.ShouldBe(HttpStatusCode.PartialContent);
        (await rest.Content.ReadAsByteArrayAsync()).ShouldBe(whole[100..]);

        var gone = await buyer.Client.GetAsync($"/api/datasets/{export.Id}/clips/{withdrawn.Id}.wav");
        gone.StatusCode.ShouldBe(HttpStatusCode.Gone);
        (await gone.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail
            .ShouldBe("The speaker withdrew this clip or their consent after the export. It may no longer be used: delete any copy you hold.");

        await app.WithDbAsync(db => db.Consents.Where(c => c.Id == consent).ExecuteUpdateAsync(s => s.SetProperty(c => c.WithdrawnAt, DateTimeOffset.UtcNow)));
        (await buyer.Client.GetAsync($"/api/datasets/{export.Id}/clips/{kept.Id}.wav")).StatusCode.ShouldBe(HttpStatusCode.Gone);
    }

    private Task<(int Exports, int Recipients, long Audit)> CountsAsync() =>
        app.WithDbAsync(async db => (await db.Set<DatasetExport>().CountAsync(), await db.ClipRecipients.CountAsync(), await db.AuditLog.LongCountAsync()));
}
