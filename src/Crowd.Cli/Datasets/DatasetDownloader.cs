using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace Crowd.Cli.Datasets;

/// <summary>A failure the person running the command can act on; printed without a stack trace.</summary>
public sealed class DatasetCliException(string message) : Exception(message);

public sealed record DatasetDownloadResult(Guid ExportId, int Clips, int Downloaded, int Resumed, int Skipped, int Withdrawn, long Bytes, bool ManifestVerified);

/// <summary>Where the downloader reports progress: a live bar on a terminal, plain lines otherwise.</summary>
public interface IDownloadReporter
{
    void Start(int clips, long bytes);

    void Advance(long bytes);

    void Note(string message);
}

/// <summary>
/// Downloads a dataset export into a directory, resumably: export.json remembers the export, finished clips whose SHA-256
/// matches the manifest are skipped, and a clip cut short (*.wav.partial) continues with an HTTP Range request.
/// </summary>
public sealed class DatasetDownloader(HttpClient http, IDownloadReporter reporter, int parallelism = 4)
{
    public const string StateFile = "export.json";
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private sealed record ExportState(Guid ExportId, Guid JobId, string Use);

    private sealed record ManifestEntry(Guid ClipId, string Sha256, long SizeBytes);

    public async Task<DatasetDownloadResult> ExportAsync(Guid jobId, string directory, string use, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.Combine(directory, "clips"));
        var statePath = Path.Combine(directory, StateFile);
        ExportState state;
        if (File.Exists(statePath))
        {
            state = JsonSerializer.Deserialize<ExportState>(await File.ReadAllTextAsync(statePath, ct), s_json)
                ?? throw new DatasetCliException($"{statePath} is not readable; remove it to start a new export.");
            if (state.JobId != jobId || state.Use != use)
            {
                throw new DatasetCliException($"{directory} holds the export of job {state.JobId} for {state.Use}; choose another directory.");
            }
            reporter.Note($"Resuming export {state.ExportId}.");
        }
        else
        {
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, $"api/jobs/{jobId}/datasets") { Content = JsonContent.Create(new { use }) }, ct);
            await EnsureSuccessAsync(response, ct);
            using var created = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            state = new ExportState(created.RootElement.GetProperty("id").GetGuid(), jobId, use);
            await WriteAtomicallyAsync(statePath, System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(state, s_json)), ct);
            reporter.Note($"Created export {state.ExportId}.");
        }

        foreach (var (name, path) in new[] { ("manifest.jsonl", "manifest.jsonl"), ("manifest.tsv", "manifest.tsv"), ("signature.json", "signature") })
        {
            var target = Path.Combine(directory, name);
            if (!File.Exists(target))
            {
                using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, $"api/datasets/{state.ExportId}/{path}"), ct);
                await EnsureSuccessAsync(response, ct);
                await WriteAtomicallyAsync(target, await response.Content.ReadAsByteArrayAsync(ct), ct);
            }
        }

        var verified = await VerifyManifestAsync(directory, ct);
        var entries = ReadManifest(await File.ReadAllTextAsync(Path.Combine(directory, "manifest.jsonl"), ct));
        reporter.Start(entries.Count, entries.Sum(e => e.SizeBytes));
        int downloaded = 0, resumed = 0, skipped = 0, withdrawn = 0;
        long bytes = 0;
        var gone = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        await Parallel.ForEachAsync(entries, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = ct }, async (entry, token) =>
        {
            var outcome = await FetchClipAsync(state.ExportId, directory, entry, token);
            switch (outcome)
            {
                case ClipOutcome.Skipped: Interlocked.Increment(ref skipped); break;
                case ClipOutcome.Resumed: Interlocked.Increment(ref resumed); break;
                case ClipOutcome.Downloaded: Interlocked.Increment(ref downloaded); break;
                default:
                    Interlocked.Increment(ref withdrawn);
                    gone.Add(entry.ClipId);
                    break;
            }
            if (outcome != ClipOutcome.Withdrawn)
            {
                Interlocked.Add(ref bytes, entry.SizeBytes);
            }
            reporter.Advance(entry.SizeBytes);
        });
        if (!gone.IsEmpty)
        {
            await File.WriteAllLinesAsync(Path.Combine(directory, "withdrawn.txt"), gone.Order().Select(g => g.ToString("D")), ct);
            reporter.Note($"{gone.Count} clip(s) were withdrawn by their speakers after the export and were not downloaded; they are listed in withdrawn.txt. Do not use them.");
        }
        return new DatasetDownloadResult(state.ExportId, entries.Count, downloaded, resumed, skipped, withdrawn, bytes, verified);
    }

    /// <summary>Asks the platform whether the manifest files are the ones it signed.</summary>
    public async Task<bool> VerifyManifestAsync(string directory, CancellationToken ct)
    {
        var body = new
        {
            manifestJsonl = await File.ReadAllTextAsync(Path.Combine(directory, "manifest.jsonl"), ct),
            manifestTsv = await File.ReadAllTextAsync(Path.Combine(directory, "manifest.tsv"), ct),
            signature = await File.ReadAllTextAsync(Path.Combine(directory, "signature.json"), ct),
        };
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, "api/datasets/verify") { Content = JsonContent.Create(body) }, ct);
        await EnsureSuccessAsync(response, ct);
        return true;
    }

    /// <summary>Clips whose file is missing or does not match the manifest's SHA-256.</summary>
    public static async Task<List<Guid>> CheckFilesAsync(string directory, CancellationToken ct)
    {
        var bad = new List<Guid>();
        foreach (var entry in ReadManifest(await File.ReadAllTextAsync(Path.Combine(directory, "manifest.jsonl"), ct)))
        {
            var path = ClipPath(directory, entry.ClipId);
            if (!File.Exists(path) || await Sha256Async(path, ct) != entry.Sha256)
            {
                bad.Add(entry.ClipId);
            }
        }
        return bad;
    }

    private enum ClipOutcome
    {
        Skipped,
        Resumed,
        Downloaded,
        Withdrawn,
    }

    private async Task<ClipOutcome> FetchClipAsync(Guid exportId, string directory, ManifestEntry entry, CancellationToken ct)
    {
        var path = ClipPath(directory, entry.ClipId);
        if (File.Exists(path))
        {
            if (await Sha256Async(path, ct) == entry.Sha256)
            {
                return ClipOutcome.Skipped;
            }
            File.Delete(path);
        }
        var partial = path + ".partial";
        var resuming = File.Exists(partial) && new FileInfo(partial).Length is > 0 and var length && length < entry.SizeBytes;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var offset = resuming && File.Exists(partial) ? new FileInfo(partial).Length : 0;
            using var response = await SendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, $"api/datasets/{exportId}/clips/{entry.ClipId:D}.wav");
                if (offset > 0)
                {
                    request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(offset, null);
                }
                return request;
            }, ct);
            if (response.StatusCode == HttpStatusCode.Gone)
            {
                File.Delete(partial);
                return ClipOutcome.Withdrawn;
            }
            await EnsureSuccessAsync(response, ct);
            var append = offset > 0 && response.StatusCode == HttpStatusCode.PartialContent;
            await using (var file = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await response.Content.CopyToAsync(file, ct);
            }
            if (await Sha256Async(partial, ct) == entry.Sha256)
            {
                File.Move(partial, path, overwrite: true);
                return append ? ClipOutcome.Resumed : ClipOutcome.Downloaded;
            }
            // A partial file from an older, different download: start that clip again from its first byte.
            File.Delete(partial);
            resuming = false;
        }
        throw new DatasetCliException($"Clip {entry.ClipId} does not match the SHA-256 in the manifest after downloading it twice.");
    }

    /// <summary>Sends, waiting and retrying when the server asks to slow down (429 with Retry-After).</summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> request, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var message = request();
            var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct);
            if (response.StatusCode != HttpStatusCode.TooManyRequests || attempt >= 20)
            {
                return response;
            }
            var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
            response.Dispose();
            await Task.Delay(wait, ct);
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var text = await response.Content.ReadAsStringAsync(ct);
        string? title = null, detail = null;
        try
        {
            using var problem = JsonDocument.Parse(text);
            title = problem.RootElement.TryGetProperty("title", out var t) ? t.GetString() : null;
            detail = problem.RootElement.TryGetProperty("detail", out var d) ? d.GetString() : null;
            if (detail is null && problem.RootElement.TryGetProperty("errors", out var errors))
            {
                detail = string.Join(" ", errors.EnumerateObject().SelectMany(e => e.Value.EnumerateArray().Select(v => v.GetString())));
            }
        }
        catch (JsonException)
        {
        }
        throw new DatasetCliException(string.Create(CultureInfo.InvariantCulture,
            $"{(int)response.StatusCode} {title ?? response.ReasonPhrase}{(detail is null ? "" : ": " + detail)}"));
    }

    private static List<ManifestEntry> ReadManifest(string jsonl)
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

    // Built from the clip id, never from a name in the manifest, so no manifest line can write outside the directory.
    private static string ClipPath(string directory, Guid clipId) => Path.Combine(directory, "clips", $"{clipId:D}.wav");

    private static async Task<string> Sha256Async(string path, CancellationToken ct)
    {
        await using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct));
    }

    private static async Task WriteAtomicallyAsync(string path, byte[] content, CancellationToken ct)
    {
        await File.WriteAllBytesAsync(path + ".partial", content, ct);
        File.Move(path + ".partial", path, overwrite: true);
    }
}
