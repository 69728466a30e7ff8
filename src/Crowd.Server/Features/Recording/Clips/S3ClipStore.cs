using Crowd.Server.Infrastructure;
using Microsoft.Extensions.Options;
using Minio;
using Minio.DataModel.Args;
using Minio.Exceptions;

namespace Crowd.Server.Features.Recording.Clips;

/// <summary>
/// Encrypted clip blobs in an S3-compatible bucket (Crowd__Clips__S3__Endpoint and friends). Blobs are encrypted before
/// they leave the process, so the bucket holds only ciphertext; destroying a clip's wrapped key shreds it here too.
/// </summary>
public sealed class S3ClipStore : IClipStore
{
    private readonly IMinioClient _client;
    private readonly string _bucket;
    private readonly string _prefix;

    public S3ClipStore(IOptions<CrowdOptions> options)
    {
        var s3 = options.Value.Clips.S3;
        var endpoint = s3.Endpoint ?? throw new InvalidOperationException("Crowd:Clips:S3:Endpoint is not set.");
        var client = new MinioClient()
            .WithEndpoint(endpoint.Host, endpoint.Port)
            .WithSSL(endpoint.Scheme == Uri.UriSchemeHttps)
            .WithCredentials(s3.AccessKey, s3.SecretKey);
        if (!string.IsNullOrEmpty(s3.Region))
        {
            client = client.WithRegion(s3.Region);
        }
        _client = client.Build();
        _bucket = s3.Bucket;
        _prefix = string.IsNullOrEmpty(s3.Prefix) ? "" : s3.Prefix.TrimEnd('/') + "/";
    }

    public async Task WriteAsync(string key, ReadOnlyMemory<byte> blob, CancellationToken ct)
    {
        // A PUT is atomic in S3: readers see the whole blob or none, as with the directory store's rename.
        using var body = new MemoryStream(blob.ToArray(), writable: false);
        await Call(() => _client.PutObjectAsync(new PutObjectArgs().WithBucket(_bucket).WithObject(ObjectName(key))
            .WithStreamData(body).WithObjectSize(blob.Length).WithContentType("application/octet-stream"), ct));
    }

    public async Task<byte[]?> ReadAsync(string key, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        try
        {
            await _client.GetObjectAsync(new GetObjectArgs().WithBucket(_bucket).WithObject(ObjectName(key))
                .WithCallbackStream(async (stream, token) => await stream.CopyToAsync(buffer, token)), ct);
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
        catch (MinioException e)
        {
            throw new IOException($"The clip store could not read {key}: {e.Message}", e);
        }
        return buffer.ToArray();
    }

    /// <summary>Deleting an object that is not there succeeds, as deletion must be idempotent.</summary>
    public Task DeleteAsync(string key, CancellationToken ct) =>
        Call(() => _client.RemoveObjectAsync(new RemoveObjectArgs().WithBucket(_bucket).WithObject(ObjectName(key)), ct));

    /// <summary>Creates the bucket when it does not exist yet (start-up and tests).</summary>
    public async Task EnsureBucketAsync(CancellationToken ct)
    {
        if (!await _client.BucketExistsAsync(new BucketExistsArgs().WithBucket(_bucket), ct))
        {
            await _client.MakeBucketAsync(new MakeBucketArgs().WithBucket(_bucket), ct);
        }
    }

    private string ObjectName(string key)
    {
        if (key.Contains("..", StringComparison.Ordinal) || key.StartsWith('/'))
        {
            throw new ArgumentException("Not a clip key.", nameof(key));
        }
        return _prefix + key;
    }

    // The callers (clip deletion sweeps, exports) treat storage failures as IOException, whatever the store.
    private static async Task Call(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (MinioException e)
        {
            throw new IOException("The clip store refused the request: " + e.Message, e);
        }
    }
}
