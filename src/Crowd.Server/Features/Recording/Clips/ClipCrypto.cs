using System.Security.Cryptography;

namespace Crowd.Server.Features.Recording.Clips;

/// <summary>
/// Envelope encryption of clips: each clip has its own random 256-bit AES-GCM key, stored only wrapped by the master
/// key. Destroying a clip's wrapped key makes its audio unreadable wherever the blob was copied. The clip id is the
/// associated data of both, so a blob or key moved to another clip does not decrypt.
/// </summary>
public static class ClipCrypto
{
    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int KeySize = 32;

    /// <summary>Blob layout: version (1) | nonce (12) | tag (16) | ciphertext.</summary>
    public static (byte[] Blob, byte[] WrappedKey) Encrypt(ReadOnlySpan<byte> plaintext, Guid clipId, ReadOnlySpan<byte> masterKey)
    {
        Span<byte> dataKey = stackalloc byte[KeySize];
        RandomNumberGenerator.Fill(dataKey);
        try
        {
            var blob = new byte[1 + NonceSize + TagSize + plaintext.Length];
            blob[0] = Version;
            Seal(dataKey, plaintext, clipId, blob.AsSpan(1));
            var wrapped = new byte[NonceSize + TagSize + KeySize];
            Seal(masterKey, dataKey, clipId, wrapped);
            return (blob, wrapped);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    public static byte[] Decrypt(ReadOnlySpan<byte> blob, ReadOnlySpan<byte> wrappedKey, Guid clipId, ReadOnlySpan<byte> masterKey)
    {
        if (blob.Length < 1 + NonceSize + TagSize || blob[0] != Version || wrappedKey.Length != NonceSize + TagSize + KeySize)
        {
            throw new CryptographicException("Not a clip this version can read.");
        }
        Span<byte> dataKey = stackalloc byte[KeySize];
        try
        {
            Open(masterKey, wrappedKey, clipId, dataKey);
            var plaintext = new byte[blob.Length - 1 - NonceSize - TagSize];
            Open(dataKey, blob[1..], clipId, plaintext);
            return plaintext;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    private static void Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, Guid clipId, Span<byte> output)
    {
        var nonce = output[..NonceSize];
        RandomNumberGenerator.Fill(nonce);
        Span<byte> aad = stackalloc byte[16];
        clipId.TryWriteBytes(aad);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, output[(NonceSize + TagSize)..], output.Slice(NonceSize, TagSize), aad);
    }

    private static void Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> sealedData, Guid clipId, Span<byte> plaintext)
    {
        Span<byte> aad = stackalloc byte[16];
        clipId.TryWriteBytes(aad);
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(sealedData[..NonceSize], sealedData[(NonceSize + TagSize)..], sealedData.Slice(NonceSize, TagSize), plaintext, aad);
    }
}
