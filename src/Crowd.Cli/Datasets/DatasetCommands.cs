using System.CommandLine;
using System.Globalization;
using Crowd.Server.Features.Exports.Datasets;
using Spectre.Console;

namespace Crowd.Cli.Datasets;

/// <summary><c>crowd dataset export JOB --out DIR</c> and <c>crowd dataset verify DIR</c>, through the platform's HTTP API.</summary>
public static class DatasetCommands
{
    public static Command Create()
    {
        var dataset = new Command("dataset", "Export a job's dataset (signed manifest and WAV files), check it offline, apply withdrawals");
        dataset.Subcommands.Add(Export());
        dataset.Subcommands.Add(Verify());
        dataset.Subcommands.Add(Sync());
        dataset.Subcommands.Add(Keys());
        return dataset;
    }

    private static Option<string> ServerOption() => new("--server")
    {
        Description = "The platform's address (or env CROWD_SERVER)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CROWD_SERVER") ?? "http://localhost:5000",
    };

    private static Option<string?> KeyOption() => new("--api-key") { Description = "Your organisation's API key (or env CROWD_API_KEY)" };

    private static Option<FileInfo?> PinnedKeysOption() => new("--keys")
    {
        Description = "Your pinned copy of the platform's public keys (default: env CROWD_DATASET_KEYS or ~/.config/crowd/crowd-dataset-keys.json)",
    };

    /// <summary>The pinned keys, or a message saying how to pin them.</summary>
    private static PublishedKeySet? Pinned(FileInfo? file, out string path)
    {
        path = file?.FullName ?? DatasetVerifier.DefaultPinPath();
        return DatasetVerifier.ReadKeys(path);
    }

    private static Command Export()
    {
        var job = new Argument<Guid>("job") { Description = "The job's id" };
        var output = new Option<DirectoryInfo>("--out") { Description = "The directory to write into; run again with the same directory to resume", Required = true };
        var use = new Option<string>("--use") { Description = "The declared use: speech-recognition or voice-cloning", DefaultValueFactory = _ => "speech-recognition" };
        use.AcceptOnlyFromAmong("speech-recognition", "voice-cloning");
        var server = ServerOption();
        var key = KeyOption();
        var keys = PinnedKeysOption();
        var command = new Command("export", "Export the job's accepted, consented clips for the declared use into a directory (resumable)") { job, output, use, server, key, keys };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(server)!, parse.GetValue(key), (http, reporter) =>
            ExportAsync(new DatasetDownloader(http, reporter), parse.GetValue(job), parse.GetValue(output)!.FullName, parse.GetValue(use)!,
                Pinned(parse.GetValue(keys), out _), ct)));
        return command;
    }

    private static Command Verify()
    {
        var directory = new Argument<DirectoryInfo>("dir") { Description = "A directory written by crowd dataset export" };
        var keys = PinnedKeysOption();
        var command = new Command("verify", "Check, with no network, the manifest's signature against your pinned keys and every file against its SHA-256") { directory, keys };
        command.SetAction(async (parse, ct) =>
        {
            var pinned = Pinned(parse.GetValue(keys), out var path);
            if (pinned is null)
            {
                Console.Error.WriteLine($"No pinned keys in {path}. Pin the platform's keys once with: crowd dataset keys pin --server URL");
                return 2;
            }
            return Report(await DatasetVerifier.VerifyAsync(parse.GetValue(directory)!.FullName, pinned, ct));
        });
        return command;
    }

    private static Command Sync()
    {
        var directory = new Argument<DirectoryInfo>("dir") { Description = "A directory written by crowd dataset export" };
        var server = ServerOption();
        var key = KeyOption();
        var keys = PinnedKeysOption();
        var command = new Command("sync", "Apply the signed deletion feed: delete clips their speakers withdrew, then verify the rest") { directory, server, key, keys };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(server)!, parse.GetValue(key), async (http, reporter) =>
        {
            var pinned = Pinned(parse.GetValue(keys), out var path)
                ?? throw new DatasetCliException($"No pinned keys in {path}. Pin the platform's keys once with: crowd dataset keys pin --server URL");
            var (_, verified) = await new DatasetDownloader(http, reporter).SyncAsync(parse.GetValue(directory)!.FullName, pinned, ct);
            return Report(verified);
        }));
        return command;
    }

    private static Command Keys()
    {
        var keys = new Command("keys", "The platform's public signing keys");
        var server = ServerOption();
        var output = PinnedKeysOption();
        var pin = new Command("pin", "Fetch the platform's public keys once and pin them (new keys are added; pinned keys are never replaced)") { server, output };
        pin.SetAction(async (parse, ct) =>
        {
            var url = parse.GetValue(server)!;
            using var http = new HttpClient { BaseAddress = new Uri(url.EndsWith('/') ? url : url + "/") };
            try
            {
                var fetched = await new DatasetDownloader(http, new PlainReporter(Console.Out)).FetchKeysAsync(ct);
                var pinned = Pinned(parse.GetValue(output), out var path);
                var merged = DatasetSignature.Merge(pinned, fetched);
                await DatasetVerifier.WriteKeysAsync(path, merged, ct);
                Console.WriteLine($"Pinned {merged.Keys.Count} key(s) in {path}:");
                foreach (var k in merged.Keys)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {k.KeyId}  SHA-256 {DatasetSignature.Sha256(Convert.FromBase64String(k.PublicKey))}  from {k.ValidFrom:u}{(k.ValidUntil is { } until ? $" until {until:u}" : " (current)")}"));
                }
                Console.WriteLine("Compare these fingerprints with the ones the platform publishes elsewhere before you rely on them.");
                return 0;
            }
            catch (Exception e) when (e is DatasetCliException or HttpRequestException)
            {
                Console.Error.WriteLine(e.Message);
                return 1;
            }
        });
        keys.Subcommands.Add(pin);
        return keys;
    }

    private static int Report(VerifyResult result)
    {
        if (result.SignatureProblem is not null)
        {
            Console.WriteLine(result.SignatureProblem);
            return 1;
        }
        var withdrawn = result.Withdrawn > 0 ? $" {result.Withdrawn} withdrawn clip(s) are listed in withdrawn.txt and must not be used." : "";
        Console.WriteLine(result.BadClips.Count == 0
            ? $"Signature valid (key {result.KeyId}); every clip matches its SHA-256.{withdrawn}"
            : $"Signature valid (key {result.KeyId}); {result.BadClips.Count} clip(s) missing or changed:{withdrawn}");
        foreach (var clip in result.BadClips)
        {
            Console.WriteLine("  " + clip);
        }
        return result.Valid ? 0 : 1;
    }

    public static async Task<int> ExportAsync(DatasetDownloader downloader, Guid job, string directory, string use, PublishedKeySet? pinned, CancellationToken ct)
    {
        var result = await downloader.ExportAsync(job, directory, use, ct, pinned);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Export {result.ExportId}: {result.Clips} clips ({result.Downloaded} downloaded, {result.Resumed} resumed, {result.Skipped} already present, {result.Withdrawn} withdrawn), {result.Bytes / 1048576.0:0.0} MB in {directory}; manifest signature {(result.ManifestVerified ? "verified" : "NOT verified")}{(pinned is null ? " against the keys the server publishes now (pin them with crowd dataset keys pin to check offline)" : " against your pinned keys")}."));
        return 0;
    }

    private static async Task<int> RunAsync(string server, string? key, Func<HttpClient, IDownloadReporter, Task<int>> work)
    {
        key ??= Environment.GetEnvironmentVariable("CROWD_API_KEY");
        if (string.IsNullOrWhiteSpace(key))
        {
            Console.Error.WriteLine("Give an API key with --api-key or the CROWD_API_KEY environment variable.");
            return 2;
        }
        using var http = new HttpClient { BaseAddress = new Uri(server.EndsWith('/') ? server : server + "/"), Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Add("X-Api-Key", key);
        try
        {
            if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected)
            {
                return await work(http, new PlainReporter(Console.Out));
            }
            var code = 0;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                .StartAsync(async context => code = await work(http, new BarReporter(context)));
            return code;
        }
        catch (DatasetCliException e)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
        catch (HttpRequestException e)
        {
            Console.Error.WriteLine($"Could not reach {server}: {e.Message}");
            return 1;
        }
    }

    private sealed class BarReporter(ProgressContext context) : IDownloadReporter
    {
        private ProgressTask? _task;

        public void Start(int clips, long bytes) => _task = context.AddTask($"{clips} clips", maxValue: Math.Max(1, bytes));

        public void Advance(long bytes) => _task?.Increment(bytes);

        public void Note(string message) => AnsiConsole.MarkupLine(Markup.Escape(message));
    }
}

/// <summary>Progress as plain lines (when the output is not a terminal): at most one a second, and the last.</summary>
public sealed class PlainReporter(TextWriter output) : IDownloadReporter
{
    private readonly Lock _lock = new();
    private int _clips;
    private int _done;
    private long _bytes;
    private long _lastLine;

    public void Start(int clips, long bytes)
    {
        _clips = clips;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{clips} clips, {bytes / 1048576.0:0.0} MB"));
    }

    public void Advance(long bytes)
    {
        lock (_lock)
        {
            _done++;
            _bytes += bytes;
            var now = Environment.TickCount64;
            if (_done == _clips || now - _lastLine >= 1000)
            {
                _lastLine = now;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_done}/{_clips} clips, {_bytes / 1048576.0:0.0} MB"));
            }
        }
    }

    public void Note(string message)
    {
        lock (_lock)
        {
            output.WriteLine(message);
        }
    }
}
