using System.Security.Cryptography;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Security;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Recording.Clips;

/// <summary>Where encrypted clip blobs live. A directory by default; an S3-compatible bucket can implement the same.</summary>
public interface IClipStore
{
    Task WriteAsync(string key, ReadOnlyMemory<byte> blob, CancellationToken ct);

    Task<byte[]?> ReadAsync(string key, CancellationToken ct);

    Task DeleteAsync(string key, CancellationToken ct);
}

public sealed class DirectoryClipStore(ClipPaths paths) : IClipStore
{
    public async Task WriteAsync(string key, ReadOnlyMemory<byte> blob, CancellationToken ct)
    {
        var path = paths.BlobPath(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Written aside then renamed: a crash leaves either the whole blob or none under its name. Readable by the
        // server's own user only, like every file the server writes.
        var temporary = path + ".partial";
        var create = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using (var file = new FileStream(temporary, create))
        {
            await file.WriteAsync(blob, ct);
        }
        File.Move(temporary, path, overwrite: true);
    }

    public async Task<byte[]?> ReadAsync(string key, CancellationToken ct)
    {
        var path = paths.BlobPath(key);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path, ct) : null;
    }

    public Task DeleteAsync(string key, CancellationToken ct)
    {
        File.Delete(paths.BlobPath(key));
        return Task.CompletedTask;
    }
}

/// <summary>The data directory's clip folder.</summary>
public sealed class ClipPaths(IOptions<CrowdOptions> options, IHostEnvironment environment)
{
    public string DataDirectory { get; } = Path.Combine(CrowdDatabase.RepositoryRoot(environment.ContentRootPath), options.Value.DataDirectory);

    public string Root => Path.Combine(DataDirectory, options.Value.Clips.Directory);

    public string BlobPath(string key)
    {
        if (key.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(key))
        {
            throw new ArgumentException("Not a clip key.", nameof(key));
        }
        return Path.Combine(Root, key);
    }
}

/// <summary>
/// The master key that wraps every clip key: Crowd:Clips:MasterKey, or generated once into the keys folder, apart from
/// the clips (earlier versions kept it in the data directory itself; it is moved on first start).
/// </summary>
public sealed class ClipMasterKey(IOptions<CrowdOptions> options, KeyFiles keys)
{
    private readonly byte[] _key = keys.Load("clip-master.key", options.Value.Clips.MasterKey, "Crowd:Clips:MasterKey",
        formerFile: Path.Combine(keys.DataDirectory, "clip-master.key"));

    public ReadOnlySpan<byte> Key => _key;
}

public sealed record StoredClip(string StorageKey, string Sha256, long SizeBytes, byte[] WrappedKey);

/// <summary>Encrypts a finished WAV under a fresh clip key and writes it to the clip store.</summary>
public sealed class ClipVault(IClipStore store, ClipMasterKey masterKey)
{
    public async Task<StoredClip> StoreAsync(Guid clipId, byte[] wav, CancellationToken ct)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(wav));
        var (blob, wrapped) = ClipCrypto.Encrypt(wav, clipId, masterKey.Key);
        var key = $"{clipId:N}"[..2] + "/" + $"{clipId:N}.clip";
        await store.WriteAsync(key, blob, ct);
        return new StoredClip(key, sha, wav.Length, wrapped);
    }

    public async Task<byte[]?> ReadAsync(Clip clip, CancellationToken ct)
    {
        var blob = await store.ReadAsync(clip.StorageKey, ct);
        return blob is null || clip.WrappedKey is null ? null : ClipCrypto.Decrypt(blob, clip.WrappedKey, clip.Id, masterKey.Key);
    }

    public Task DeleteAsync(string storageKey, CancellationToken ct) => store.DeleteAsync(storageKey, ct);
}
