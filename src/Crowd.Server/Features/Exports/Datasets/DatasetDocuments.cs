using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crowd.Server.Infrastructure.Money;

namespace Crowd.Server.Features.Exports.Datasets;

/// <summary>What the platform knows about an export beyond its manifest: the job's terms, pay and quality bar.</summary>
public sealed record DatasetFacts(
    ManifestHeader Header, IReadOnlyList<ManifestClip> Clips, string JobDescription, Uri Url, Money HourlyRate, Money? PayFloor, string Region,
    double MinSnrDb, double MaxClippingRatio, double MinSpeechRatio, int ClipMinMs, int ClipMaxMs, int RetentionDays, bool PeerValidation,
    string ManifestJsonlSha256, string ManifestTsvSha256);

/// <summary>
/// croissant.json (MLCommons Croissant 1.0 with its Responsible-AI fields) and DATASHEET.md ("Datasheets for Datasets",
/// Gebru et al.) for an export, written from the same facts as the manifest. Pure.
/// </summary>
public static class DatasetDocuments
{
    public const string CroissantFile = DatasetSignature.CroissantFile;
    public const string DatasheetFile = DatasetSignature.DatasheetFile;
    public const string ConformsTo = "http://mlcommons.org/croissant/1.0";
    public const string Creator = "Crowd voice data platform";

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Croissant(DatasetFacts f)
    {
        var h = f.Header;
        var distribution = new JsonArray
        {
            FileObject("manifest.jsonl", "The manifest: a header line, then one JSON line per clip with its consent.", "application/jsonlines", f.ManifestJsonlSha256),
            FileObject("manifest.tsv", "The clip table: one row per clip.", "text/tab-separated-values", f.ManifestTsvSha256),
            new JsonObject
            {
                ["@type"] = "cr:FileSet",
                ["@id"] = "clips",
                ["name"] = "clips",
                ["description"] = "Every clip as a 16-bit PCM WAV file, named by its clip id.",
                ["encodingFormat"] = "audio/wav",
                ["includes"] = "clips/*.wav",
            },
        };
        foreach (var clip in f.Clips)
        {
            var file = FileObject(clip.File, null, "audio/wav", clip.Sha256);
            file["contentSize"] = clip.SizeBytes.ToString(CultureInfo.InvariantCulture) + " B";
            distribution.Add(file);
        }

        var fields = new JsonArray
        {
            Field("clip_id", "The clip's id; its file is clips/{clip_id}.wav.", "sc:Text", "clip_id"),
            Field("file", "The clip's path in the dataset directory.", "sc:Text", "file"),
            AudioField(),
            Field("prompt", "The text the speaker was asked to read.", "sc:Text", "prompt"),
            Field("prompt_ref", "The requester's own id of the prompt.", "sc:Text", "prompt_ref"),
            Field("duration_ms", "Length of the recording in milliseconds.", "sc:Integer", "duration_ms"),
            Field("sample_rate", "Samples per second.", "sc:Integer", "sample_rate"),
            Field("size_bytes", "Size of the WAV file.", "sc:Integer", "size_bytes"),
            Field("speaker", "A per-job pseudonym of the speaker; not linkable across jobs.", "sc:Text", "speaker"),
            Field("consent_id", "The consent the clip rests on.", "sc:Text", "consent_id"),
            Field("consent_job_version", "The version of the job's terms the speaker consented to.", "sc:Integer", "consent_job_version"),
            Field("purposes", "The purposes that consent covers, comma-separated.", "sc:Text", "purposes"),
            Field("sha256", "SHA-256 of the WAV file.", "sc:Text", "sha256"),
            Field("metrics", "Audio quality metrics measured on the server (JSON).", "sc:Text", "metrics"),
        };

        var document = new JsonObject
        {
            ["@context"] = Context(),
            ["@type"] = "sc:Dataset",
            ["conformsTo"] = ConformsTo,
            ["name"] = $"{h.JobTitle} ({h.Use}, export {h.ExportId:D})",
            ["description"] = $"Prompted read speech in {h.Language}, recorded in the browser by paid contributors who each consented to this job and to the use \"{h.Use}\". "
                + $"{h.ClipCount} clips; every clip names the consent it rests on. {f.JobDescription}".Trim(),
            ["license"] = h.Licence,
            ["url"] = f.Url.ToString(),
            ["creator"] = new JsonObject { ["@type"] = "sc:Organization", ["name"] = Creator },
            ["publisher"] = new JsonObject { ["@type"] = "sc:Organization", ["name"] = h.Buyer.Organisation },
            ["datePublished"] = h.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["version"] = "1.0.0",
            ["inLanguage"] = h.Language,
            ["keywords"] = new JsonArray("speech", "read speech", h.Use, h.Language),
            ["isAccessibleForFree"] = false,
            ["distribution"] = distribution,
            ["recordSet"] = new JsonArray
            {
                new JsonObject
                {
                    ["@type"] = "cr:RecordSet",
                    ["@id"] = "clip_table",
                    ["name"] = "clip_table",
                    ["description"] = $"One record per clip ({h.ClipCount}).",
                    ["key"] = new JsonObject { ["@id"] = "clip_table/clip_id" },
                    ["field"] = fields,
                },
            },
            ["rai:dataCollection"] = $"Contributors read prompts aloud in their browsers at a quiet place of their choice. Each gave a separate, typed consent to this job's terms (buyer, purposes, retention, pay); speakers under 18 only with a guardian's confirmation. Audio is analysed live and on the server; clips below the quality bar (SNR at least {f.MinSnrDb:0.#} dB, clipping at most {f.MaxClippingRatio:0.###%}, speech at least {f.MinSpeechRatio:0.#%}) are not kept.",
            ["rai:dataCollectionType"] = new JsonArray("Crowdsourced", "Direct human recording"),
            ["rai:personalSensitiveInformation"] = "Voice recordings are biometric data. Speakers appear only as per-job pseudonyms; prompts are the requester's texts. Do not try to identify speakers or link them across datasets.",
            ["rai:dataUseCases"] = $"Only the consented use: {h.Use}. Each clip lists the purposes its consent covers; using a clip for anything else is not allowed.",
            ["rai:dataLimitations"] = $"Read (not spontaneous) speech in {h.Language}; {f.Clips.Select(c => c.Speaker).Distinct().Count()} speakers; clips of {f.ClipMinMs / 1000.0:0.#} to {f.ClipMaxMs / 1000.0:0.#} s recorded on consumer microphones.",
            ["rai:dataReleaseMaintenancePlan"] = "Speakers can withdraw at any time. Withdrawn clips appear in the signed deletion feed (GET /api/datasets/deletions?since=…); delete them from every copy (crowd dataset sync DIR does so and re-verifies the rest).",
        };
        return document.ToJsonString(s_json) + "\n";
    }

    public static string Datasheet(DatasetFacts f)
    {
        var h = f.Header;
        var speakers = f.Clips.Select(c => c.Speaker).Distinct().Count();
        var hours = f.Clips.Sum(c => (long)c.DurationMs) / 3_600_000.0;
        var versions = string.Join(", ", f.Clips.Select(c => c.ConsentJobVersion).Distinct().Order().Select(v => v.ToString(CultureInfo.InvariantCulture)));
        var purposes = string.Join("; ", f.Clips.Select(c => string.Join(", ", c.Purposes)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');

        Line($"# Datasheet: {h.JobTitle}");
        Line();
        Line($"Export `{h.ExportId:D}` of job `{h.JobId:D}`, made {h.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)} for {h.Buyer.Organisation}. "
            + "This datasheet follows \"Datasheets for Datasets\" (Gebru et al.). It is covered by signature.json with the manifest.");
        Line();
        Line("## Motivation");
        Line($"- Recorded for {h.Buyer.BuyerName}, exported for the declared use **{h.Use}**.");
        Line($"- The job: {(string.IsNullOrWhiteSpace(f.JobDescription) ? h.JobTitle : f.JobDescription)}");
        Line("- Collected on Crowd, a platform where contributors are paid for their time and consent separately to each job.");
        Line();
        Line("## Composition");
        Line($"- {h.ClipCount} clips, {h.TotalBytes} bytes, {hours.ToString("0.##", CultureInfo.InvariantCulture)} hours of read speech in `{h.Language}` by {speakers} speakers.");
        Line("- Each clip: a 16-bit PCM mono WAV file (`clips/{clip_id}.wav`), the prompt read, a per-job speaker pseudonym, the consent it rests on, the purposes that consent covers, its SHA-256 and quality metrics (`manifest.jsonl`, `manifest.tsv`).");
        Line("- No names, contact details or dates of birth. Speaker pseudonyms are different in every job.");
        Line();
        Line("## Collection process");
        Line($"- Consent: every speaker gave a separate, typed consent to the job's terms (job versions {versions}) naming the buyer, the purposes, the retention ({f.RetentionDays} days) and the pay. Voice cloning is a separate opt-in. Speakers under 18 took part only with a guardian's confirmed consent; under 14 not at all.");
        Line($"- Pay: {Currencies.Format(f.HourlyRate)} per hour of active work in {f.Region}"
            + (f.PayFloor is { } floor ? $", at or above the floor of {Currencies.Format(floor)} (the larger of the legal part-time minimum and the market rate)." : "."));
        Line($"- Quality: each clip was analysed on the server; kept only with SNR at least {f.MinSnrDb.ToString("0.#", CultureInfo.InvariantCulture)} dB, clipping at most {(f.MaxClippingRatio * 100).ToString("0.###", CultureInfo.InvariantCulture)} % of samples, speech in at least {(f.MinSpeechRatio * 100).ToString("0.#", CultureInfo.InvariantCulture)} % of the clip, and a length of {(f.ClipMinMs / 1000.0).ToString("0.#", CultureInfo.InvariantCulture)}–{(f.ClipMaxMs / 1000.0).ToString("0.#", CultureInfo.InvariantCulture)} s; then accepted by the requester{(f.PeerValidation ? ", by other contributors (peer validation)" : "")} or after the review period.");
        Line();
        Line("## Preprocessing");
        Line("- None beyond the recording itself: clips are the lossless WAV files as recorded (16 kHz), not resampled, trimmed or denoised. Metrics are measurements, not changes.");
        Line();
        Line("## Uses");
        Line($"- Declared use: **{h.Use}**. Purposes consented, per clip: {purposes}.");
        Line($"- Licence: {h.Licence}");
        Line("- Not for: identifying speakers, linking them across datasets, or any purpose their consent does not list.");
        Line();
        Line("## Distribution");
        Line($"- Delivered to {h.Buyer.Organisation} (buyer named to the speakers: {h.Buyer.BuyerName}) only. No resale or onward transfer.");
        Line("- Verify offline: `crowd dataset verify DIR` checks signature.json (Ed25519, the platform's pinned public key) and every file's SHA-256.");
        Line();
        Line("## Maintenance");
        Line("- Speakers can withdraw at any time; their clips must then be deleted. The platform publishes a signed, append-only deletion feed per buyer (`GET /api/datasets/deletions?since=`); `crowd dataset sync DIR` removes withdrawn clips from a local copy and re-verifies the rest.");
        Line($"- Audio is destroyed on the platform after {f.RetentionDays} days, or three years after a speaker's last activity, whichever is first.");
        return text.ToString();
    }

    private static JsonObject FileObject(string name, string? description, string encodingFormat, string sha256)
    {
        var file = new JsonObject
        {
            ["@type"] = "cr:FileObject",
            ["@id"] = name,
            ["name"] = name,
            ["contentUrl"] = name,
            ["encodingFormat"] = encodingFormat,
            ["sha256"] = sha256,
        };
        if (description is not null)
        {
            file["description"] = description;
        }
        return file;
    }

    private static JsonObject Field(string name, string description, string dataType, string column) => new()
    {
        ["@type"] = "cr:Field",
        ["@id"] = "clip_table/" + name,
        ["name"] = name,
        ["description"] = description,
        ["dataType"] = dataType,
        ["source"] = new JsonObject
        {
            ["fileObject"] = new JsonObject { ["@id"] = "manifest.tsv" },
            ["extract"] = new JsonObject { ["column"] = column },
        },
    };

    private static JsonObject AudioField() => new()
    {
        ["@type"] = "cr:Field",
        ["@id"] = "clip_table/audio",
        ["name"] = "audio",
        ["description"] = "The recording.",
        ["dataType"] = "sc:AudioObject",
        ["source"] = new JsonObject
        {
            ["fileSet"] = new JsonObject { ["@id"] = "clips" },
            ["extract"] = new JsonObject { ["fileProperty"] = "content" },
        },
    };

    /// <summary>The JSON-LD context of Croissant 1.0, with the RAI vocabulary.</summary>
    private static JsonObject Context() => new()
    {
        ["@language"] = "en",
        ["@vocab"] = "https://schema.org/",
        ["citeAs"] = "cr:citeAs",
        ["column"] = "cr:column",
        ["conformsTo"] = "dct:conformsTo",
        ["cr"] = "http://mlcommons.org/croissant/",
        ["rai"] = "http://mlcommons.org/croissant/RAI/",
        ["data"] = new JsonObject { ["@id"] = "cr:data", ["@type"] = "@json" },
        ["dataType"] = new JsonObject { ["@id"] = "cr:dataType", ["@type"] = "@vocab" },
        ["dct"] = "http://purl.org/dc/terms/",
        ["examples"] = new JsonObject { ["@id"] = "cr:examples", ["@type"] = "@json" },
        ["extract"] = "cr:extract",
        ["field"] = "cr:field",
        ["fileProperty"] = "cr:fileProperty",
        ["fileObject"] = "cr:fileObject",
        ["fileSet"] = "cr:fileSet",
        ["format"] = "cr:format",
        ["includes"] = "cr:includes",
        ["isLiveDataset"] = "cr:isLiveDataset",
        ["jsonPath"] = "cr:jsonPath",
        ["key"] = "cr:key",
        ["md5"] = "cr:md5",
        ["parentField"] = "cr:parentField",
        ["path"] = "cr:path",
        ["recordSet"] = "cr:recordSet",
        ["references"] = "cr:references",
        ["regex"] = "cr:regex",
        ["repeated"] = "cr:repeated",
        ["replace"] = "cr:replace",
        ["sc"] = "https://schema.org/",
        ["separator"] = "cr:separator",
        ["source"] = "cr:source",
        ["subField"] = "cr:subField",
        ["transform"] = "cr:transform",
    };
}
