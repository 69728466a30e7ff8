using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace Crowd.Cli.Datasets;

/// <summary><c>crowd dataset export JOB --out DIR</c> and <c>crowd dataset verify DIR</c>, through the platform's HTTP API.</summary>
public static class DatasetCommands
{
    public static Command Create()
    {
        var dataset = new Command("dataset", "Export a job's dataset (signed manifest and WAV files) and check it");
        dataset.Subcommands.Add(Export());
        dataset.Subcommands.Add(Verify());
        return dataset;
    }

    private static Option<string> ServerOption() => new("--server")
    {
        Description = "The platform's address (or env CROWD_SERVER)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CROWD_SERVER") ?? "http://localhost:5000",
    };

    private static Option<string?> KeyOption() => new("--api-key") { Description = "Your organisation's API key (or env CROWD_API_KEY)" };

    private static Command Export()
    {
        var job = new Argument<Guid>("job") { Description = "The job's id" };
        var output = new Option<DirectoryInfo>("--out") { Description = "The directory to write into; run again with the same directory to resume", Required = true };
        var use = new Option<string>("--use") { Description = "The declared use: speech-recognition or voice-cloning", DefaultValueFactory = _ => "speech-recognition" };
        use.AcceptOnlyFromAmong("speech-recognition", "voice-cloning");
        var server = ServerOption();
        var key = KeyOption();
        var command = new Command("export", "Export the job's accepted, consented clips for the declared use into a directory (resumable)") { job, output, use, server, key };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(server)!, parse.GetValue(key), (http, reporter) =>
            ExportAsync(new DatasetDownloader(http, reporter), parse.GetValue(job), parse.GetValue(output)!.FullName, parse.GetValue(use)!, ct)));
        return command;
    }

    private static Command Verify()
    {
        var directory = new Argument<DirectoryInfo>("dir") { Description = "A directory written by crowd dataset export" };
        var server = ServerOption();
        var key = KeyOption();
        var command = new Command("verify", "Check the manifest's signature with the platform and every WAV against its SHA-256") { directory, server, key };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(server)!, parse.GetValue(key), async (http, reporter) =>
        {
            var dir = parse.GetValue(directory)!.FullName;
            await new DatasetDownloader(http, reporter).VerifyManifestAsync(dir, ct);
            var bad = await DatasetDownloader.CheckFilesAsync(dir, ct);
            Console.WriteLine(bad.Count == 0 ? "Manifest signature valid; every clip matches its SHA-256." : $"Manifest signature valid; {bad.Count} clip(s) missing or changed:");
            foreach (var clip in bad)
            {
                Console.WriteLine("  " + clip);
            }
            return bad.Count == 0 ? 0 : 1;
        }));
        return command;
    }

    public static async Task<int> ExportAsync(DatasetDownloader downloader, Guid job, string directory, string use, CancellationToken ct)
    {
        var result = await downloader.ExportAsync(job, directory, use, ct);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Export {result.ExportId}: {result.Clips} clips ({result.Downloaded} downloaded, {result.Resumed} resumed, {result.Skipped} already present, {result.Withdrawn} withdrawn), {result.Bytes / 1048576.0:0.0} MB in {directory}; manifest signature {(result.ManifestVerified ? "verified" : "NOT verified")}."));
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
