using System.Security.Cryptography;
using System.Text;
using Crowd.Server.Features.Recording.Clips;

namespace Crowd.Server.Features.Exports.Datasets;

/// <summary>
/// The platform's export secrets, derived (HKDF-SHA256) from the clip master key with their own labels, so every node
/// that can read clips signs and pseudonymises alike and no second secret has to be distributed.
/// </summary>
public sealed class ExportKeys
{
    private readonly byte[] _signing;
    private readonly byte[] _pseudonymRoot;
    private readonly byte[] _keyWrap;

    public ExportKeys(ClipMasterKey master)
        : this(master.Key)
    {
    }

    public ExportKeys(ReadOnlySpan<byte> master)
    {
        _signing = HKDF.DeriveKey(HashAlgorithmName.SHA256, master.ToArray(), 32, info: Encoding.ASCII.GetBytes("crowd dataset manifest signature v1"));
        _pseudonymRoot = HKDF.DeriveKey(HashAlgorithmName.SHA256, master.ToArray(), 32, info: Encoding.ASCII.GetBytes("crowd speaker pseudonym v1"));
        _keyWrap = HKDF.DeriveKey(HashAlgorithmName.SHA256, master.ToArray(), 32, info: Encoding.ASCII.GetBytes("crowd dataset signing key wrap v1"));
    }

    /// <summary>The HMAC key of version-1 manifests, kept so that exports signed before Ed25519 can still be checked.</summary>
    public ReadOnlySpan<byte> SigningKey => _signing;

    /// <summary>Wraps an Ed25519 private key for storage: AES-256-GCM, the key id as associated data. Layout: nonce | tag | ciphertext.</summary>
    public byte[] Wrap(ReadOnlySpan<byte> privateKey, string keyId)
    {
        var wrapped = new byte[12 + 16 + privateKey.Length];
        RandomNumberGenerator.Fill(wrapped.AsSpan(0, 12));
        using var aes = new AesGcm(_keyWrap, 16);
        aes.Encrypt(wrapped.AsSpan(0, 12), privateKey, wrapped.AsSpan(28), wrapped.AsSpan(12, 16), Encoding.UTF8.GetBytes(keyId));
        return wrapped;
    }

    public byte[] Unwrap(ReadOnlySpan<byte> wrapped, string keyId)
    {
        var privateKey = new byte[wrapped.Length - 28];
        using var aes = new AesGcm(_keyWrap, 16);
        aes.Decrypt(wrapped[..12], wrapped[28..], wrapped.Slice(12, 16), privateKey, Encoding.UTF8.GetBytes(keyId));
        return privateKey;
    }

    /// <summary>The job's own pseudonym key: the same speaker is a different, unlinkable pseudonym in every job.</summary>
    public SpeakerPseudonyms ForJob(Guid jobId)
    {
        Span<byte> job = stackalloc byte[16];
        jobId.TryWriteBytes(job, bigEndian: true, out _);
        return new SpeakerPseudonyms(HMACSHA256.HashData(_pseudonymRoot, job));
    }
}

/// <summary>HMAC-SHA256(job key, contributor id), 128 bits in hex: stable within a job, useless to a buyer without the key.</summary>
public sealed class SpeakerPseudonyms(byte[] jobKey)
{
    public string Of(Guid contributorId)
    {
        Span<byte> id = stackalloc byte[16];
        contributorId.TryWriteBytes(id, bigEndian: true, out _);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(jobKey, id, mac);
        return "spk_" + Convert.ToHexStringLower(mac[..16]);
    }
}
