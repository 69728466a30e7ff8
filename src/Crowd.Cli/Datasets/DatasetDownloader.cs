using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Crowd.Server.Features.Exports.Datasets;

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
    public const string SyncFile = "deletions.json";
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private sealed record ExportState(Guid ExportId, Guid JobId, string Use);

    private sealed record SyncState(long Since);

    private static readonly (string File, string Path)[] s_signedFiles =
    [
        (DatasetSignature.JsonlFile, "manifest.jsonl"), (DatasetSignature.TsvFile, "manifest.tsv"), (DatasetSignature.SignatureFile, "signature"),
        (DatasetSignature.CroissantFile, "croissant.json"), (DatasetSignature.DatasheetFile, "DATASHEET.md"),
    ];

    /// <param name="pinned">The buyer's pinned keys; without them the manifest is checked against the keys the server publishes now.</param>
    public async Task<DatasetDownloadResult> ExportAsync(Guid jobId, string directory, string use, CancellationToken ct, PublishedKeySet? pinned = null)
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

        foreach (var (name, path) in s_signedFiles)
        {
            var target = Path.Combine(directory, name);
            if (!File.Exists(target))
            {
                using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, $"api/datasets/{state.ExportId}/{path}"), ct);
                await EnsureSuccessAsync(response, ct);
                await WriteAtomicallyAsync(target, await response.Content.ReadAsByteArrayAsync(ct), ct);
            }
        }
        // A copy of the platform's public keys travels with the data for reference; verification trusts pinned keys only.
        var published = await FetchKeysAsync(ct);
        await DatasetVerifier.WriteKeysAsync(Path.Combine(directory, DatasetSignature.KeysFile), published, ct);
        var (problem, _) = await DatasetVerifier.CheckSignatureAsync(directory, pinned ?? published, ct);
        if (problem is not null)
        {
            throw new DatasetCliException(problem);
        }
        var verified = true;
        var entries = DatasetVerifier.ReadManifest(await File.ReadAllTextAsync(Path.Combine(directory, DatasetSignature.JsonlFile), ct));
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
            var listed = await DatasetVerifier.WithdrawnAsync(directory, ct);
            listed.UnionWith(gone);
            await File.WriteAllLinesAsync(Path.Combine(directory, DatasetVerifier.WithdrawnFile), listed.Order().Select(g => g.ToString("D")), ct);
            reporter.Note($"{gone.Count} clip(s) were withdrawn by their speakers after the export and were not downloaded; they are listed in withdrawn.txt. Do not use them.");
        }
        return new DatasetDownloadResult(state.ExportId, entries.Count, downloaded, resumed, skipped, withdrawn, bytes, verified);
    }

    /// <summary>The platform's public keys as it publishes them now.</summary>
    public async Task<PublishedKeySet> FetchKeysAsync(CancellationToken ct)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, DatasetSignature.WellKnownPath.TrimStart('/')), ct);
        await EnsureSuccessAsync(response, ct);
        return JsonSerializer.Deserialize<PublishedKeySet>(await response.Content.ReadAsStringAsync(ct), DatasetSignature.Json)
            ?? throw new DatasetCliException("The platform's key set is empty.");
    }

    /// <summary>
    /// Applies the buyer's deletion feed to a downloaded export: every page is checked against the pinned keys, clips of
    /// this export that were withdrawn are deleted and listed in withdrawn.txt, and then the rest is verified again.
    /// </summary>
    public async Task<(int Removed, VerifyResult Verified)> SyncAsync(string directory, PublishedKeySet pinned, CancellationToken ct)
    {
        var statePath = Path.Combine(directory, StateFile);
        var state = File.Exists(statePath) ? JsonSerializer.Deserialize<ExportState>(await File.ReadAllTextAsync(statePath, ct), s_json) : null;
        if (state is null)
        {
            throw new DatasetCliException($"{directory} holds no export made by crowd dataset export ({StateFile} is missing).");
        }
        var syncPath = Path.Combine(directory, SyncFile);
        var since = File.Exists(syncPath) ? JsonSerializer.Deserialize<SyncState>(await File.ReadAllTextAsync(syncPath, ct), s_json)?.Since ?? 0 : 0;
        var withdrawn = await DatasetVerifier.WithdrawnAsync(directory, ct);
        var removed = 0;
        while (true)
        {
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, string.Create(CultureInfo.InvariantCulture, $"api/datasets/deletions?since={since}")), ct);
            await EnsureSuccessAsync(response, ct);
            var signed = JsonSerializer.Deserialize<SignedFeed>(await response.Content.ReadAsStringAsync(ct), DatasetSignature.Json)
                ?? throw new DatasetCliException("The deletion feed answered with nothing.");
            var (verdict, page) = DatasetSignature.VerifyFeed(signed, pinned);
            if (page is null)
            {
                throw new DatasetCliException($"The deletion feed's signature does not verify under your pinned keys ({verdict.Problem}); nothing was changed.");
            }
            foreach (var entry in page.Entries.Where(e => e.ExportId == state.ExportId))
            {
                var path = DatasetVerifier.ClipPath(directory, entry.ClipId);
                File.Delete(path + ".partial");
                if (File.Exists(path))
                {
                    File.Delete(path);
                    removed++;
                }
                withdrawn.Add(entry.ClipId);
            }
            await File.WriteAllLinesAsync(Path.Combine(directory, DatasetVerifier.WithdrawnFile), withdrawn.Order().Select(g => g.ToString("D")), ct);
            since = page.Next;
            await WriteAtomicallyAsync(syncPath, System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new SyncState(since), s_json)), ct);
            if (!page.More)
            {
                break;
            }
        }
        reporter.Note($"{removed} withdrawn clip(s) deleted; {withdrawn.Count} listed in {DatasetVerifier.WithdrawnFile}. Delete them from every other copy too.");
        return (removed, await DatasetVerifier.VerifyAsync(directory, pinned, ct));
    }

    /// <summary>Clips whose file is missing or does not match the manifest's SHA-256 (clips listed as withdrawn are not expected).</summary>
    public static async Task<List<Guid>> CheckFilesAsync(string directory, CancellationToken ct)
    {
        var withdrawn = await DatasetVerifier.WithdrawnAsync(directory, ct);
        var bad = new List<Guid>();
        foreach (var entry in DatasetVerifier.ReadManifest(await File.ReadAllTextAsync(Path.Combine(directory, DatasetSignature.JsonlFile), ct)))
        {
            var path = DatasetVerifier.ClipPath(directory, entry.ClipId);
            if (!withdrawn.Contains(entry.ClipId) && (!File.Exists(path) || await DatasetVerifier.Sha256Async(path, ct) != entry.Sha256))
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

    private async Task<ClipOutcome> FetchClipAsync(Guid exportId, string directory, DatasetVerifier.ManifestEntry entry, CancellationToken ct)
    {
        var path = DatasetVerifier.ClipPath(directory, entry.ClipId);
        if (File.Exists(path))
        {
            if (await DatasetVerifier.Sha256Async(path, ct) == entry.Sha256)
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
            if (await DatasetVerifier.Sha256Async(partial, ct) == entry.Sha256)
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

    private static async Task WriteAtomicallyAsync(string path, byte[] content, CancellationToken ct)
    {
        await File.WriteAllBytesAsync(path + ".partial", content, ct);
        File.Move(path + ".partial", path, overwrite: true);
    }
}
