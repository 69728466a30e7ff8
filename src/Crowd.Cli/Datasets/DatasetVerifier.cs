using System.Security.Cryptography;
using System.Text.Json;
using Crowd.Server.Features.Exports.Datasets;

namespace Crowd.Cli.Datasets;

/// <summary>The outcome of checking a dataset directory: what is wrong with the signature (null when it holds) and which clips do not match.</summary>
public sealed record VerifyResult(string? SignatureProblem, IReadOnlyList<Guid> BadClips, int Clips, int Withdrawn, string? KeyId)
{
    public bool Valid => SignatureProblem is null && BadClips.Count == 0;
}

/// <summary>
/// Checks a dataset directory with no network: signature.json against the public keys the buyer pinned, every signed
/// file against its SHA-256, and every clip against the manifest. A key set shipped inside the directory is never
/// trusted on its own: only a pinned one is.
/// </summary>
public static class DatasetVerifier
{
    public const string WithdrawnFile = "withdrawn.txt";

    /// <summary>Where <c>crowd dataset keys pin</c> keeps the buyer's pinned keys unless told otherwise.</summary>
    public static string DefaultPinPath() =>
        Environment.GetEnvironmentVariable("CROWD_DATASET_KEYS")
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "crowd", DatasetSignature.KeysFile);

    public static PublishedKeySet? ReadKeys(string path) =>
        File.Exists(path) ? JsonSerializer.Deserialize<PublishedKeySet>(File.ReadAllText(path), DatasetSignature.Json) : null;

    public static async Task WriteKeysAsync(string path, PublishedKeySet keys, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path + ".partial", JsonSerializer.Serialize(keys, DatasetSignature.Json), ct);
        File.Move(path + ".partial", path, overwrite: true);
    }

    public static async Task<VerifyResult> VerifyAsync(string directory, PublishedKeySet pinned, CancellationToken ct)
    {
        var (problem, keyId) = await CheckSignatureAsync(directory, pinned, ct);
        if (problem is not null)
        {
            return new(problem, [], 0, 0, keyId);
        }
        var withdrawn = await WithdrawnAsync(directory, ct);
        var bad = new List<Guid>();
        var clips = 0;
        foreach (var entry in ReadManifest(await File.ReadAllTextAsync(Path.Combine(directory, DatasetSignature.JsonlFile), ct)))
        {
            clips++;
            if (withdrawn.Contains(entry.ClipId))
            {
                continue;
            }
            var path = ClipPath(directory, entry.ClipId);
            if (!File.Exists(path) || await Sha256Async(path, ct) != entry.Sha256)
            {
                bad.Add(entry.ClipId);
            }
        }
        return new(null, bad, clips, withdrawn.Count, keyId);
    }

    /// <summary>signature.json against the keys, then every file it names; null when all hold.</summary>
    public static async Task<(string? Problem, string? KeyId)> CheckSignatureAsync(string directory, PublishedKeySet keys, CancellationToken ct)
    {
        var signaturePath = Path.Combine(directory, DatasetSignature.SignatureFile);
        if (!File.Exists(signaturePath))
        {
            return ($"{DatasetSignature.SignatureFile} is missing: nothing proves where these files come from.", null);
        }
        var verdict = DatasetSignature.Verify(await File.ReadAllTextAsync(signaturePath, ct), keys, name =>
            // Only plain names in the directory; a missing file reads as empty, so it fails like a changed one.
            name.IndexOfAny(['/', '\\']) >= 0 || name is "." or ".." ? [] : File.Exists(Path.Combine(directory, name)) ? File.ReadAllBytes(Path.Combine(directory, name)) : []);
        var keyId = verdict.Key?.KeyId;
        return (verdict.Problem switch
        {
            SignatureProblem.None => null,
            SignatureProblem.UnknownKey => "signature.json is signed by a key you have not pinned. Pin the platform's keys (crowd dataset keys pin --server URL), compare their fingerprints with the platform's, and verify again.",
            SignatureProblem.OutsideKeyWindow => $"signature.json is dated outside the validity window of key {keyId}: it cannot be trusted.",
            SignatureProblem.SignatureInvalid => $"signature.json does not verify under key {keyId}: it was changed, or not made by the platform.",
            SignatureProblem.FileChanged => $"{verdict.File} was changed after the platform signed it: do not trust it.",
            _ => "signature.json is not a dataset signature this platform writes.",
        }, keyId);
    }

    public static async Task<HashSet<Guid>> WithdrawnAsync(string directory, CancellationToken ct)
    {
        var path = Path.Combine(directory, WithdrawnFile);
        return File.Exists(path)
            ? (await File.ReadAllLinesAsync(path, ct)).Where(l => Guid.TryParse(l, out _)).Select(Guid.Parse).ToHashSet()
            : [];
    }

    internal sealed record ManifestEntry(Guid ClipId, string Sha256, long SizeBytes);

    internal static List<ManifestEntry> ReadManifest(string jsonl)
    {
        var entries = new List<ManifestEntry>();
        foreach (var line in jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            using var clip = JsonDocument.Parse(line);
            var root = clip.RootElement;
            entries.Add(new ManifestEntry(root.GetProperty("clipId").GetGuid(), root.GetProperty("sha256").GetString()!, root.GetProperty("sizeBytes").GetInt64()));
        }
        return entries;
    }

    // Built from the clip id, never from a name in the manifest, so no manifest line can point outside the directory.
    internal static string ClipPath(string directory, Guid clipId) => Path.Combine(directory, "clips", $"{clipId:D}.wav");

    internal static async Task<string> Sha256Async(string path, CancellationToken ct)
    {
        await using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct));
    }
}
