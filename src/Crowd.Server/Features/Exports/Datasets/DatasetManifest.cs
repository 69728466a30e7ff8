using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Crowd.Server.Features.Exports.Datasets;

public sealed record ManifestBuyer(Guid OrganisationId, string Organisation, string BuyerName);

/// <summary>The first line of manifest.jsonl: what the dataset is, for whom, for which use, under which licence.</summary>
public sealed record ManifestHeader(
    string Format, Guid ExportId, Guid JobId, string JobTitle, string Language, ManifestBuyer Buyer, string Use, string Licence,
    DateTimeOffset CreatedAt, int ClipCount, long TotalBytes);

/// <summary>One clip of the dataset: every line says which consent it rests on.</summary>
public sealed record ManifestClip(
    Guid ClipId, string File, string Prompt, string? PromptRef, int DurationMs, int SampleRate, long SizeBytes, string Speaker,
    Guid ConsentId, int ConsentJobVersion, string[] Purposes, string Sha256, JsonElement Metrics);

/// <summary>signature.json of exports made before Ed25519: an HMAC-SHA256 by the platform over the export id and both manifest files.</summary>
public sealed record ManifestSignature(string Format, Guid ExportId, string Algorithm, string ManifestJsonlSha256, string ManifestTsvSha256, string Signature);

public enum ManifestCheck
{
    Valid,
    Unreadable,
    JsonlChanged,
    TsvChanged,
    CroissantChanged,
    DatasheetChanged,
    SignatureChanged,
}

/// <summary>Writes and checks dataset manifests. Pure: the texts are built and verified from values and a key.</summary>
public static class DatasetManifest
{
    public const string Format = "crowd-dataset/1";
    public const string JsonlFile = DatasetSignature.JsonlFile;
    public const string TsvFile = DatasetSignature.TsvFile;
    public const string SignatureFormat = "crowd-dataset-signature/1";
    public const string Algorithm = "HMAC-SHA256";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly string[] s_tsvColumns =
    [
        "clip_id", "file", "prompt", "prompt_ref", "duration_ms", "sample_rate", "size_bytes", "speaker", "consent_id",
        "consent_job_version", "purposes", "sha256", "metrics",
    ];

    public static string FileOf(Guid clipId) => $"clips/{clipId:D}.wav";

    public static string Jsonl(ManifestHeader header, IEnumerable<ManifestClip> clips)
    {
        var text = new StringBuilder();
        text.Append(JsonSerializer.Serialize(header, Json)).Append('\n');
        foreach (var clip in clips)
        {
            text.Append(JsonSerializer.Serialize(clip, Json)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>One row per clip; the buyer, export and licence are in '#' comment lines above the column names.</summary>
    public static string Tsv(ManifestHeader header, IEnumerable<ManifestClip> clips)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# {Format} export {header.ExportId:D} job {header.JobId:D} use {header.Use}\n");
        text.Append(CultureInfo.InvariantCulture, $"# buyer {Cell(header.Buyer.Organisation)} ({Cell(header.Buyer.BuyerName)}), organisation {header.Buyer.OrganisationId:D}\n");
        text.Append(CultureInfo.InvariantCulture, $"# licence {Cell(header.Licence)}\n");
        text.AppendJoin('\t', s_tsvColumns).Append('\n');
        foreach (var c in clips)
        {
            text.AppendJoin('\t',
            [
                c.ClipId.ToString("D"), c.File, Cell(c.Prompt), Cell(c.PromptRef ?? ""),
                c.DurationMs.ToString(CultureInfo.InvariantCulture), c.SampleRate.ToString(CultureInfo.InvariantCulture),
                c.SizeBytes.ToString(CultureInfo.InvariantCulture), c.Speaker, c.ConsentId.ToString("D"),
                c.ConsentJobVersion.ToString(CultureInfo.InvariantCulture), string.Join(',', c.Purposes), c.Sha256,
                c.Metrics.GetRawText(),
            ]).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Which part of an HMAC-signed (version 1) export, if any, no longer matches what the platform signed.</summary>
    public static ManifestCheck Verify(string jsonl, string? tsv, string signatureText, ReadOnlySpan<byte> key)
    {
        ManifestSignature? signature;
        ManifestHeader? header;
        try
        {
            signature = JsonSerializer.Deserialize<ManifestSignature>(signatureText, Json);
            var firstLine = jsonl.AsSpan(0, Math.Max(0, jsonl.IndexOf('\n', StringComparison.Ordinal)));
            header = JsonSerializer.Deserialize<ManifestHeader>(firstLine, Json);
        }
        catch (JsonException)
        {
            return ManifestCheck.Unreadable;
        }
        if (signature is null || signature.Format != SignatureFormat || signature.Algorithm != Algorithm || header is null)
        {
            return ManifestCheck.Unreadable;
        }
        var expected = Mac(signature.ExportId, signature.ManifestJsonlSha256, signature.ManifestTsvSha256, key);
        if (!FixedTimeEqualsText(expected, signature.Signature))
        {
            return ManifestCheck.SignatureChanged;
        }
        if (!FixedTimeEqualsText(Sha256(jsonl), signature.ManifestJsonlSha256) || header.ExportId != signature.ExportId)
        {
            return ManifestCheck.JsonlChanged;
        }
        if (tsv is not null && !FixedTimeEqualsText(Sha256(tsv), signature.ManifestTsvSha256))
        {
            return ManifestCheck.TsvChanged;
        }
        return ManifestCheck.Valid;
    }

    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string Mac(Guid exportId, string jsonlSha, string tsvSha, ReadOnlySpan<byte> key) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{Format}\n{exportId:D}\n{jsonlSha}\n{tsvSha}")));

    private static bool FixedTimeEqualsText(string a, string? b) =>
        b is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));

    // Tabs and line breaks would move a value into another column or row.
    private static string Cell(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal);
}
