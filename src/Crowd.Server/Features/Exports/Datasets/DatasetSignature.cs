using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using NSec.Cryptography;

namespace Crowd.Server.Features.Exports.Datasets;

/// <summary>One of the platform's public signing keys: it signed what is dated from ValidFrom up to ValidUntil (open while current).</summary>
public sealed record PublishedKey(string KeyId, string Algorithm, string PublicKey, DateTimeOffset ValidFrom, DateTimeOffset? ValidUntil)
{
    public bool Covers(DateTimeOffset signedAt) => signedAt >= ValidFrom && (ValidUntil is null || signedAt < ValidUntil);
}

/// <summary>crowd-dataset-keys.json: every key the platform signs or signed datasets and deletion feeds with.</summary>
public sealed record PublishedKeySet(string Format, string Issuer, IReadOnlyList<PublishedKey> Keys, string Rotation);

/// <summary>A file the signature covers, by its name in the dataset directory and the SHA-256 of its bytes.</summary>
public sealed record SignedFile(string Name, string Sha256);

/// <summary>signature.json: an Ed25519 signature by one of the platform's keys over the export id, its date and every metadata file's SHA-256.</summary>
public sealed record DatasetSignatureFile(
    string Format, Guid ExportId, string Algorithm, string KeyId, DateTimeOffset SignedAt, IReadOnlyList<SignedFile> Files, string Signature);

/// <summary>A deletion feed page as delivered: the exact JSON text signed, and the signature.</summary>
public sealed record SignedFeed(string Format, string KeyId, string Signature, string Feed);

public sealed record FeedEntry(long Seq, Guid ClipId, Guid ExportId, string Reason, DateTimeOffset RecordedAt);

/// <summary>The body of a deletion feed page: the organisation's deletions after <c>Since</c>, up to and including <c>Next</c>.</summary>
public sealed record DeletionFeedPage(Guid OrganisationId, long Since, long Next, bool More, DateTimeOffset SignedAt, IReadOnlyList<FeedEntry> Entries);

public enum SignatureProblem
{
    None,
    Unreadable,
    UnknownKey,
    OutsideKeyWindow,
    SignatureInvalid,
    FileChanged,
}

public sealed record SignatureVerdict(SignatureProblem Problem, string? File = null, PublishedKey? Key = null)
{
    public bool Valid => Problem == SignatureProblem.None;
}

/// <summary>
/// Ed25519 signatures of dataset exports and deletion feeds, and their offline check against a pinned key set. Pure
/// (bytes in, verdict out); the server signs with it and the <c>crowd</c> command compiles the same file in to verify.
/// </summary>
public static class DatasetSignature
{
    public const string Format = "crowd-dataset-signature/2";
    public const string FeedFormat = "crowd-deletion-feed/1";
    public const string KeySetFormat = "crowd-dataset-keys/1";
    public const string Algorithm = "Ed25519";
    public const string KeysFile = "crowd-dataset-keys.json";
    public const string WellKnownPath = "/.well-known/" + KeysFile;
    public const string SignatureFile = "signature.json";
    public const string JsonlFile = "manifest.jsonl";
    public const string TsvFile = "manifest.tsv";
    public const string CroissantFile = "croissant.json";
    public const string DatasheetFile = "DATASHEET.md";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
    };

    private static readonly SignatureAlgorithm s_ed25519 = SignatureAlgorithm.Ed25519;

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string Sha256(string text) => Sha256(Encoding.UTF8.GetBytes(text));

    /// <summary>A new key pair: the raw 32-byte private seed and public key.</summary>
    public static (byte[] PrivateKey, byte[] PublicKey) NewKeyPair()
    {
        using var key = Key.Create(s_ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        return (key.Export(KeyBlobFormat.RawPrivateKey), key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    /// <summary>A key id that names the key's date and fingerprint, so a buyer can compare it by eye.</summary>
    public static string KeyIdOf(ReadOnlySpan<byte> publicKey, DateTimeOffset validFrom) =>
        string.Create(CultureInfo.InvariantCulture, $"crowd-{validFrom.UtcDateTime:yyyyMMdd}-{Sha256(publicKey)[..16]}");

    public static DatasetSignatureFile Sign(Guid exportId, IEnumerable<SignedFile> files, string keyId, ReadOnlySpan<byte> privateKey, DateTimeOffset signedAt)
    {
        var sorted = files.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        var signature = SignBytes(Payload(exportId, keyId, signedAt, sorted), privateKey);
        return new DatasetSignatureFile(Format, exportId, Algorithm, keyId, signedAt, sorted, Convert.ToBase64String(signature));
    }

    public static string Text(DatasetSignatureFile signature) => JsonSerializer.Serialize(signature, Json) + "\n";

    public static SignedFeed SignFeed(DeletionFeedPage page, string keyId, ReadOnlySpan<byte> privateKey)
    {
        var feed = JsonSerializer.Serialize(page, Json);
        return new SignedFeed(FeedFormat, keyId, Convert.ToBase64String(SignBytes(FeedPayload(feed), privateKey)), feed);
    }

    /// <summary>
    /// Checks signature.json against the key set and then each signed file's bytes, as <paramref name="readFile"/> gives
    /// them (null when the caller has no copy of that file: it is then not checked).
    /// </summary>
    public static SignatureVerdict Verify(string signatureText, PublishedKeySet keys, Func<string, byte[]?> readFile)
    {
        DatasetSignatureFile? signature;
        try
        {
            signature = JsonSerializer.Deserialize<DatasetSignatureFile>(signatureText, Json);
        }
        catch (JsonException)
        {
            return new(SignatureProblem.Unreadable);
        }
        if (signature is null || signature.Format != Format || signature.Algorithm != Algorithm || signature.Files is null || signature.Signature is null)
        {
            return new(SignatureProblem.Unreadable);
        }
        var check = CheckKey(keys, signature.KeyId, signature.SignedAt, out var key);
        if (check != SignatureProblem.None)
        {
            return new(check, Key: key);
        }
        var files = signature.Files.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        if (!VerifyBytes(key!, Payload(signature.ExportId, signature.KeyId, signature.SignedAt, files), signature.Signature))
        {
            return new(SignatureProblem.SignatureInvalid, Key: key);
        }
        foreach (var file in files)
        {
            var bytes = readFile(file.Name);
            if (bytes is not null && !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sha256(bytes)), Encoding.ASCII.GetBytes(file.Sha256)))
            {
                return new(SignatureProblem.FileChanged, file.Name, key);
            }
        }
        return new(SignatureProblem.None, Key: key);
    }

    /// <summary>The page, when the feed's signature is valid under the key set; the problem otherwise.</summary>
    public static (SignatureVerdict Verdict, DeletionFeedPage? Page) VerifyFeed(SignedFeed feed, PublishedKeySet keys)
    {
        DeletionFeedPage? page;
        try
        {
            page = feed.Format == FeedFormat ? JsonSerializer.Deserialize<DeletionFeedPage>(feed.Feed, Json) : null;
        }
        catch (JsonException)
        {
            page = null;
        }
        if (page is null)
        {
            return (new(SignatureProblem.Unreadable), null);
        }
        var check = CheckKey(keys, feed.KeyId, page.SignedAt, out var key);
        if (check != SignatureProblem.None)
        {
            return (new(check, Key: key), null);
        }
        return VerifyBytes(key!, FeedPayload(feed.Feed), feed.Signature) ? (new(SignatureProblem.None, Key: key), page) : (new(SignatureProblem.SignatureInvalid, Key: key), null);
    }

    /// <summary>Merges a fetched key set into a pinned one: keys already pinned keep their pinned public key; new ones are added.</summary>
    public static PublishedKeySet Merge(PublishedKeySet? pinned, PublishedKeySet fetched)
    {
        if (pinned is null)
        {
            return fetched;
        }
        var keys = pinned.Keys.ToDictionary(k => k.KeyId, StringComparer.Ordinal);
        foreach (var key in fetched.Keys)
        {
            // A pinned key is never replaced by another key under the same id; its window may close.
            if (!keys.TryGetValue(key.KeyId, out var known) || known.PublicKey == key.PublicKey)
            {
                keys[key.KeyId] = key;
            }
        }
        return fetched with { Keys = [.. keys.Values.OrderBy(k => k.ValidFrom)] };
    }

    private static SignatureProblem CheckKey(PublishedKeySet keys, string keyId, DateTimeOffset signedAt, out PublishedKey? key)
    {
        key = keys.Keys.FirstOrDefault(k => k.KeyId == keyId && k.Algorithm == Algorithm);
        if (key is null)
        {
            return SignatureProblem.UnknownKey;
        }
        return key.Covers(signedAt) ? SignatureProblem.None : SignatureProblem.OutsideKeyWindow;
    }

    private static byte[] Payload(Guid exportId, string keyId, DateTimeOffset signedAt, IReadOnlyList<SignedFile> files)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Format}\n{exportId:D}\n{keyId}\n{signedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffffffZ}\n");
        foreach (var file in files)
        {
            text.Append(file.Name).Append('\t').Append(file.Sha256).Append('\n');
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static byte[] FeedPayload(string feed) => Encoding.UTF8.GetBytes(FeedFormat + "\n" + feed);

    private static byte[] SignBytes(byte[] payload, ReadOnlySpan<byte> privateKey)
    {
        using var key = Key.Import(s_ed25519, privateKey, KeyBlobFormat.RawPrivateKey);
        return s_ed25519.Sign(key, payload);
    }

    private static bool VerifyBytes(PublishedKey key, byte[] payload, string signature)
    {
        try
        {
            var publicKey = PublicKey.Import(s_ed25519, Convert.FromBase64String(key.PublicKey), KeyBlobFormat.RawPublicKey);
            return s_ed25519.Verify(publicKey, payload, Convert.FromBase64String(signature));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return false;
        }
    }
}
