using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.ApiKeys;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Jobs.Assessments;
using Crowd.Server.Features.Recording;
using Crowd.Server.Features.Recording.Streaming;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Benchmarks;

/// <param name="ServerWarmupSeconds">
/// Before anything is measured the servers run the first step's load this long, unmeasured: a fresh .NET process spends
/// its first minute under load compiling its hot code again with optimisations, and a node that has been up for a day has not.
/// </param>
/// <param name="AlignedTakes">
/// Every recorder's first take as long as the rest, so that a step's takes all end within the same 100 ms, every
/// <see cref="TakeSeconds"/>: a thousand contributors pressing Stop at once. By default each recorder's first take has a
/// random length (3 s up to <see cref="TakeSeconds"/>), as people reading prompts of different lengths do not stop together.
/// </param>
public sealed record RecordingBenchmarkOptions(int[] Recorders, int Seconds, int Nodes, int Threads, int WarmupSeconds = 2, int TakeSeconds = 10,
    int ServerWarmupSeconds = 0, bool AlignedTakes = false, IReadOnlyDictionary<string, string>? NodeEnvironment = null);

public sealed record RecordingStepResult(int Recorders, int Nodes, long ChunksSent, long FramesReceived, double P50Ms, double P95Ms, double P99Ms,
    double MaxMs, double ServerCpuPercent, double ServerCpuMsPer1000Chunks, long ServerRssMb, int Errors, IReadOnlyList<string> ErrorSamples,
    int ClientStalls, double ClientCpuPercent, double MachineCpuPercent, double TakeStartP50Ms, double TakeStartP99Ms,
    long LateChunks = 0, int LateWindows = 0, int Windows = 0, double WorstWindowLatePercent = 0, GcFigures? ClientGc = null, GcFigures? ServerGc = null,
    IReadOnlyList<double>? LateWindowSeconds = null, DateTime MeasuredFrom = default)
{
    public double DeliveredPercent => ChunksSent == 0 ? 0 : 100.0 * FramesReceived / ChunksSent;
}

/// <summary>
/// The recording load benchmark: N contributors stream 16 kHz PCM16 in real time (a 100 ms chunk every 100 ms each,
/// random phase) over WebSockets with MessagePack, through the SignalR .NET client, against real server processes (one
/// node, or two finding each other through Redis) on a throw-away PostgreSQL. The job is created, funded and published
/// through the public API, as a requester and the admin do it. Measures the time from a chunk being sent to its quality
/// frame arriving, delivered frames, errors, and the server's CPU and memory; and the time a contributor waits between
/// pressing Record and the take starting (the StartTake call).
/// </summary>
public static class RecordingBenchmark
{
    private const int SampleRate = 16_000;
    private const int ChunkSamples = 1_600;
    internal const string Password = "correct horse battery";
    private const int ContributorsPerJob = 50;
    private static readonly TimeSpan DrainTime = TimeSpan.FromSeconds(10);
    /// <summary>What the client sets aside for a step, so that it does not collect while it measures (see StepAsync).</summary>
    private const long ClientNoGcBytes = 512L << 20;
    private static readonly TimeSpan StallLimit = TimeSpan.FromMilliseconds(500);

    /// <summary>The issue's bound on chunk-to-frame latency: the chunks over it are located in time, to tell a stall from a queue.</summary>
    public const double LateMs = 50;
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(100);

    public static async Task<IReadOnlyList<RecordingStepResult>> RunAsync(RecordingBenchmarkOptions options, TextWriter log)
    {
        log.WriteLine($"Machine: {Environment.ProcessorCount} cores, load average {LoadAverage()}; {options.Nodes} node(s)" +
            (options.Nodes > 1 ? " (each session's grain on a node its recorder is not connected to: every chunk crosses nodes); " : "; ") +
            $"{options.Threads} sender threads; {options.Seconds} s measured per step after {options.WarmupSeconds} s warm-up; servers warmed up for {options.ServerWarmupSeconds} s; " +
            $"{options.TakeSeconds} s takes, " + (options.AlignedTakes ? "all ending together" : "each recorder's first of a random length") +
            (options.NodeEnvironment is { Count: > 0 } set ? "; servers' environment: " + string.Join(", ", set.Select(e => $"{e.Key}={e.Value}")) : ""));
        await using var postgres = await EmbeddedPostgres.StartThrowawayAsync();
        var connectionString = postgres.ConnectionString("bench");
        await SchemaMigrator.EnsureDatabaseAsync(connectionString);
        await SchemaMigrator.MigrateAsync(connectionString);
        await using var redis = options.Nodes > 1 ? await TestRedis.StartAsync() : null;
        var dataDirectory = Path.Combine(Path.GetTempPath(), "crowd-rec-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var adminEmail = $"admin-{Guid.NewGuid():N}@bench.test";
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Crowd"] = connectionString,
            ["Crowd__DataDirectory"] = dataDirectory,
            ["Crowd__Clips__MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Crowd__Admin__Email"] = adminEmail,
            ["Crowd__Admin__Password"] = Password,
            ["Crowd__RateLimits__AuthPerMinute"] = "1000000",
            ["Crowd__RateLimits__ApiPerSecond"] = "1000000",
            ["Crowd__Scheduler__Enabled"] = "false",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (name, value) in options.NodeEnvironment ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }
        if (redis is not null)
        {
            environment["Crowd__Orleans__Redis"] = redis.Configuration;
            environment["Crowd__Orleans__ClusterId"] = "bench-" + Guid.NewGuid().ToString("N")[..8];
            environment["Crowd__Orleans__AdvertisedAddress"] = "127.0.0.1";
        }
        var nodes = new List<ServerProcess>();
        var gc = new List<ProcessGc>();
        using var clientGc = ProcessGc.Watch(Environment.ProcessId);
        try
        {
            for (var i = 0; i < options.Nodes; i++)
            {
                var node = new Dictionary<string, string>(environment);
                if (redis is not null)
                {
                    node["Crowd__Orleans__SiloPort"] = ServerProcess.FreePort().ToString(CultureInfo.InvariantCulture);
                }
                nodes.Add((await ServerProcess.StartAsync(node)).Server);
            }
            log.WriteLine($"{nodes.Count} node(s) up: {string.Join(", ", nodes.Select(n => n.Address))}");
            gc.AddRange(nodes.Select(n => ProcessGc.Watch(n.ProcessId)));
            var audio = Audio();
            var max = options.Recorders.Max();
            var setup = Stopwatch.StartNew();
            var recorders = await SetUpAsync(nodes, adminEmail, max, log);
            log.WriteLine($"Set-up through the public API: {recorders.Count} recorders on {recorders.Select(r => r.JobId).Distinct().Count()} jobs " +
                $"in {setup.Elapsed.TotalSeconds:F1} s");
            var results = new List<RecordingStepResult>();
            if (options.ServerWarmupSeconds > 0)
            {
                var count = options.Recorders[0];
                log.WriteLine($"Warm-up: {count} recorders for {options.ServerWarmupSeconds} s, not measured");
                await StepAsync(nodes, gc, clientGc, recorders.Take(count).ToList(), audio, options with { WarmupSeconds = 0, Seconds = options.ServerWarmupSeconds });
            }
            log.WriteLine("CPU is a percentage of one core; the machine's is everything on it (the servers, this client, PostgreSQL).");
            log.WriteLine("recorders nodes    sent  delivered     p50     p95     p99     max  server CPU  CPU ms/1000 chunks  RSS MB  client CPU  machine CPU  errors  client stalls  take start p50/p99");
            foreach (var count in options.Recorders)
            {
                var step = await StepAsync(nodes, gc, clientGc, recorders.Take(count).ToList(), audio, options);
                results.Add(step);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{step.Recorders,9} {step.Nodes,5} {step.ChunksSent,7} {step.DeliveredPercent,9:F2}% {step.P50Ms,6:F1}ms {step.P95Ms,6:F1}ms " +
                    $"{step.P99Ms,6:F1}ms {step.MaxMs,6:F0}ms {step.ServerCpuPercent,9:F0}% {step.ServerCpuMsPer1000Chunks,19:F0} {step.ServerRssMb,7} {step.ClientCpuPercent,10:F0}% " +
                    $"{step.MachineCpuPercent,11:F0}% {step.Errors,7} {step.ClientStalls,14} {step.TakeStartP50Ms,8:F1}/{step.TakeStartP99Ms:F1}ms"));
                foreach (var (who, g) in new[] { ("server", step.ServerGc), ("client", step.ClientGc) })
                {
                    if (g is not null)
                    {
                        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  {who} GC: {g.Collections} collections (gen0 {g.Gen0}, gen1 {g.Gen1}, gen2 {g.Gen2}), {g.PausedMs:F0} ms paused, the longest {g.LongestMs:F1} ms; " +
                            $"{g.OtherStops.Count} other stops of the runtime ({g.OtherStops.Sum(p => p.Ms):F0} ms)"));
                    }
                }
                if (step.LateChunks > 0)
                {
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  over {LateMs:F0} ms: {100.0 * step.LateChunks / step.ChunksSent:F2} % of chunks, sent in {step.LateWindows} of {step.Windows} " +
                        $"windows of {Window.TotalMilliseconds:F0} ms (in the worst, {step.WorstWindowLatePercent:F0} % of its chunks)"));
                    // When in the step: late windows that line up with the servers' collections are the GC's; the others are not.
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  late windows at (s): {string.Join(' ', step.LateWindowSeconds!.Take(40).Select(t => t.ToString("F1", CultureInfo.InvariantCulture)))}"));
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  server GC at (s): {PausesAt(step.ServerGc!, step.MeasuredFrom)}"));
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  client GC at (s), over 10 ms: {PausesAt(step.ClientGc!, step.MeasuredFrom, minMs: 10)}"));
                }
                foreach (var sample in step.ErrorSamples)
                {
                    log.WriteLine("  error: " + sample);
                }
            }
            log.WriteLine($"Load average after: {LoadAverage()}");
            return results;
        }
        finally
        {
            foreach (var watch in gc)
            {
                watch.Dispose();
            }
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    private sealed record Recorder(Guid JobId, CookieContainer Cookies, int Node);

    /// <summary>
    /// A requester with an API key posts jobs and their prompts, the admin records their bank transfers on /Escrow/Fund,
    /// the requester publishes; contributors sign up, sign in and consent to each job. Each contributor records on up to
    /// one job per connection, so <see cref="ContributorsPerJob"/> contributors cover every job.
    /// </summary>
    private static async Task<List<Recorder>> SetUpAsync(List<ServerProcess> nodes, string adminEmail, int count, TextWriter log)
    {
        var node = nodes[0].Address;
        using var requester = Client(node, new CookieContainer());
        await SignUpAndInAsync(requester, new SignUpRequest($"requester-{Guid.NewGuid():N}@bench.test", Password, "Bench Requester",
            new DateOnly(1980, 1, 1), Roles.Requester, "Bench Speech AI"));
        var key = (await (await requester.PostAsJsonAsync("/api/api-keys", new CreateApiKeyRequest("load benchmark")))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<CreatedApiKeyResponse>())!.Key;
        using var api = Client(node, null);
        api.DefaultRequestHeaders.Add("X-Api-Key", key);
        using var admin = Client(node, new CookieContainer());
        (await admin.PostAsJsonAsync("/api/accounts/signin", new SignInRequest(adminEmail, Password))).EnsureSuccessStatusCode();

        var contributors = Math.Min(count, ContributorsPerJob);
        var jobs = new List<Guid>();
        for (var j = 0; j * contributors < count; j++)
        {
            var job = (await (await api.PostAsJsonAsync("/api/jobs", new JobRequest(Title: $"Load benchmark {j + 1}",
                    Description: "Read each sentence aloud.", Language: "en", HourlyRate: new Money(3000, "CNY"), Region: "CN-BJ",
                    EstimatedSecondsPerClip: 10, BuyerName: "Bench Speech AI", PurposeSpeechRecognition: true, RetentionDays: 30, TargetHours: 2000)))
                .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JobResponse>())!;
            var prompts = string.Join('\n', Enumerable.Range(1, contributors + 10).Select(i => $"Benchmark sentence number {i}."));
            (await api.PutAsync($"/api/jobs/{job.Id}/prompts", new StringContent(prompts, System.Text.Encoding.UTF8, "text/plain"))).EnsureSuccessStatusCode();
            await AssessAsync(api, admin, job.Id);
            await FundAsync(admin, job.Title, job.Budget!.Total);
            (await api.PostAsync($"/api/jobs/{job.Id}/publish", null)).EnsureSuccessStatusCode();
            jobs.Add(job.Id);
        }

        var recorders = new ConcurrentBag<Recorder>();
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(Enumerable.Range(0, contributors).Select(async c =>
        {
            await gate.WaitAsync();
            try
            {
                var cookies = new CookieContainer();
                using var http = Client(node, cookies);
                await SignUpAndInAsync(http, new SignUpRequest($"contributor-{c}-{Guid.NewGuid():N}@bench.test", Password,
                    $"Bench Contributor {c}", new DateOnly(1995, 1, 1), Roles.Contributor));
                for (var j = 0; j < jobs.Count && j * contributors + c < count; j++)
                {
                    var screen = (await http.GetFromJsonAsync<ConsentView>($"/api/recording/jobs/{jobs[j]}/consent"))!;
                    (await http.PostAsJsonAsync($"/api/recording/jobs/{jobs[j]}/consent", new
                    {
                        version = screen.Version,
                        textSha256 = screen.TextSha256,
                        signature = $"Bench Contributor {c}",
                        voiceCloning = false,
                    })).EnsureSuccessStatusCode();
                    recorders.Add(new Recorder(jobs[j], cookies, (j * contributors + c) % nodes.Count));
                }
            }
            finally
            {
                gate.Release();
            }
        }));
        log.WriteLine($"{contributors} contributors signed up and consented");
        return [.. recorders.OrderBy(r => r.Node).ThenBy(r => r.JobId)];
    }

    /// <summary>Signing up answers the same whether or not the address was taken, and signs nobody in: sign in after.</summary>
    internal static async Task SignUpAndInAsync(HttpClient http, SignUpRequest signUp)
    {
        (await http.PostAsJsonAsync("/api/accounts/signup", signUp)).EnsureSuccessStatusCode();
        (await http.PostAsJsonAsync("/api/accounts/signin", new SignInRequest(signUp.Email, signUp.Password))).EnsureSuccessStatusCode();
    }

    /// <summary>The requester submits the job's impact assessment and the admin approves it, as publishing requires.</summary>
    private static async Task AssessAsync(HttpClient api, HttpClient admin, Guid jobId)
    {
        var submitted = (await (await api.PostAsJsonAsync($"/api/jobs/{jobId}/assessment", new AssessmentAnswers(
                PurposeAndNecessity: "Measuring how many people can record at once; read speech of many speakers is the workload.",
                DataCollected: "Generated audio of prompted sentences and its quality metrics. No real person's voice.",
                RiskVoiceCloning: "None: the audio is generated, and voice cloning is not a purpose of this job.",
                RiskReidentification: "None: the speakers are generated accounts.",
                RiskMinors: "None: every account is an adult's.",
                Safeguards: "Per-clip encryption; the database and clips are thrown away after the run.",
                Retention: "30 days, and the whole database is deleted when the benchmark ends.",
                Recipients: "Bench Speech AI, the buyer named on the consent screen.")))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<AssessmentResponse>())!;
        (await admin.PostAsJsonAsync($"/api/admin/assessments/{submitted.Id}/review", new AssessmentReviewRequest(true, null))).EnsureSuccessStatusCode();
    }

    /// <summary>The admin finds the job's payment reference among the jobs waiting for money and records its bank transfer.</summary>
    private static async Task FundAsync(HttpClient admin, string title, Money amount)
    {
        var page = WebUtility.HtmlDecode(await admin.GetStringAsync("/Escrow/Fund"));
        var reference = Regex.Matches(page, "data-testid=\"waiting-([^\"]+)\"(.*?)</tr>", RegexOptions.Singleline)
            .Where(m => m.Groups[2].Value.Contains(title, StringComparison.Ordinal)).Select(m => m.Groups[1].Value).Single();
        var token = Regex.Match(page, "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"").Groups[1].Value;
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["PaymentReference"] = reference,
            ["Amount"] = (amount.Minor / 100m).ToString("0.00", CultureInfo.InvariantCulture),
            ["Currency"] = amount.Currency,
            ["BankReference"] = "BENCH-" + reference,
        });
        var response = await admin.PostAsync("/Escrow/Fund", form);
        var body = await response.Content.ReadAsStringAsync();
        if (!body.Contains("Recorded for", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Funding job {title} ({reference}) was not recorded: HTTP {(int)response.StatusCode}");
        }
    }

    /// <summary>One step: every recorder connects, joins, takes a prompt and records takes back to back, in real time.</summary>
    private static async Task<RecordingStepResult> StepAsync(List<ServerProcess> nodes, List<ProcessGc> gc, ProcessGc clientGc, List<Recorder> recorders, byte[][] audio, RecordingBenchmarkOptions options)
    {
        var errors = new ConcurrentBag<string>();
        var sessions = new RecorderSession[recorders.Count];
        using (var gate = new SemaphoreSlim(32))
        {
            await Task.WhenAll(recorders.Select(async (r, i) =>
            {
                await gate.WaitAsync();
                try
                {
                    sessions[i] = await RecorderSession.OpenAsync(nodes[r.Node].Address, nodes.Count > 1 ? nodes[(r.Node + 1) % nodes.Count].Address : null, r, errors);
                }
                catch (Exception e)
                {
                    errors.Add("join: " + e.Message);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }
        var live = sessions.Where(s => s is not null).ToArray();
        // This one process plays a thousand browsers, each of which collects its own garbage without stopping the others;
        // a collection here stopped all of them at once for 70–150 ms and was charged to every recorder's frames. So the
        // client does not collect while it measures: it allocates a few MB a second and sets this much aside first (when it
        // allocates more, the runtime collects anyway and the client GC line shows it). The servers are left alone.
        var noGc = GC.TryStartNoGCRegion(ClientNoGcBytes);
        var warmup = TimeSpan.FromSeconds(options.WarmupSeconds);
        var measured = TimeSpan.FromSeconds(options.Seconds);
        var clock = Stopwatch.StartNew();
        var phase = new Random(42);
        foreach (var s in live)
        {
            s.NextDue = TimeSpan.FromMilliseconds(phase.Next(0, 100));
            s.FirstTakeChunks = options.AlignedTakes ? options.TakeSeconds * 10 : phase.Next(Math.Min(30, options.TakeSeconds * 10), options.TakeSeconds * 10 + 1);
        }
        var cpuBefore = TimeSpan.Zero;
        var stalls = 0;
        var senders = Enumerable.Range(0, options.Threads).Select(t => Task.Factory.StartNew(() =>
        {
            var mine = live.Where((_, i) => i % options.Threads == t).ToArray();
            var takeChunks = options.TakeSeconds * 10;
            while (clock.Elapsed < warmup + measured)
            {
                var now = clock.Elapsed;
                var counting = now >= warmup;
                foreach (var s in mine)
                {
                    if (now >= s.NextDue)
                    {
                        if (now - s.NextDue > StallLimit)
                        {
                            // The sending thread itself was starved (a loaded machine): carry on from now, as a microphone
                            // would, rather than fire the backlog at many times real time. Counted and printed.
                            s.NextDue = now;
                            Interlocked.Increment(ref stalls);
                        }
                        s.Tick(audio, takeChunks, counting, errors);
                        s.NextDue += TimeSpan.FromMilliseconds(100);
                    }
                }
                Thread.Sleep(2); // the senders pace real time; 2 ms of slack keeps them from spinning
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.Delay(warmup);
        cpuBefore = nodes.Aggregate(TimeSpan.Zero, (sum, n) => sum + n.CpuTime());
        var clientBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var machineBefore = MachineBusy();
        var measureStart = Stopwatch.GetTimestamp();
        var measureFrom = DateTime.Now;
        await Task.WhenAll(senders);
        var measureTo = DateTime.Now;
        var cpu = nodes.Aggregate(TimeSpan.Zero, (sum, n) => sum + n.CpuTime()) - cpuBefore;
        var clientCpu = Process.GetCurrentProcess().TotalProcessorTime - clientBefore;
        var machineCpu = MachineBusy() - machineBefore;
        var wall = Stopwatch.GetElapsedTime(measureStart);
        var rss = nodes.Sum(n => n.RssMb());
        foreach (var s in live)
        {
            s.EndTake(); // no more audio: the server finishes what it has and answers the verdict
        }
        // Frames still in flight count as delivered when they arrive (their latency says how late); a frame that has not come
        // back within the drain time is lost.
        var drain = Stopwatch.StartNew();
        while (live.Sum(s => s.CountedFrames) < live.Sum(s => s.CountedSent) && drain.Elapsed < DrainTime)
        {
            await Task.Delay(50);
        }
        if (noGc && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
        {
            try
            {
                GC.EndNoGCRegion();
            }
            catch (InvalidOperationException)
            {
                // it had just ended with a collection
            }
        }
        var delivered = live.SelectMany(s => s.Delivered()).ToArray();
        var latencies = delivered.Select(d => d.Ms).Order().ToArray();
        var takeStarts = live.SelectMany(s => s.TakeStarts()).Order().ToArray();
        // Late chunks by the 100 ms window they were sent in: a stall makes a few windows all late, a queue spreads them out.
        var windows = (int)Math.Ceiling(measured / Window);
        var windowTicks = Window.TotalSeconds * Stopwatch.Frequency;
        int WindowOf(long sentAt) => Math.Clamp((int)((sentAt - measureStart) / windowTicks), 0, windows - 1);
        var sentByWindow = new int[windows];
        foreach (var t in live.SelectMany(s => s.CountedSentAt()))
        {
            sentByWindow[WindowOf(t)]++;
        }
        var lateByWindow = delivered.Where(d => d.Ms > LateMs).GroupBy(d => WindowOf(d.SentAt)).ToDictionary(g => g.Key, g => g.Count());
        var sent = live.Sum(s => s.CountedSent);
        var received = live.Sum(s => s.CountedFrames);
        await Task.WhenAll(live.Select(s => s.CloseAsync(errors)));
        await Task.Delay(TimeSpan.FromSeconds(1)); // the nodes' event buffers reach us about once a second
        var serverGc = new GcFigures(gc.SelectMany(watch => watch.Between(measureFrom, measureTo)).OrderBy(p => p.At).ToList());
        var stepClientGc = new GcFigures(clientGc.Between(measureFrom, measureTo));
        static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        var errorList = errors.ToList();
        return new RecordingStepResult(recorders.Count, nodes.Count, sent, received, Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99),
            latencies.Length == 0 ? double.NaN : latencies[^1], 100 * cpu.TotalSeconds / wall.TotalSeconds,
            sent == 0 ? 0 : cpu.TotalMilliseconds / (sent / 1000.0), rss, errorList.Count + (recorders.Count - live.Length),
            errorList.GroupBy(e => e).Select(g => $"{g.Count()} × {g.Key}").Take(5).ToList(), stalls,
            100 * clientCpu.TotalSeconds / wall.TotalSeconds, 100 * machineCpu.TotalSeconds / wall.TotalSeconds, Percentile(takeStarts, 0.50), Percentile(takeStarts, 0.99),
            lateByWindow.Values.Sum(), lateByWindow.Count, windows, lateByWindow.Count == 0 ? 0 : lateByWindow.Max(w => 100.0 * w.Value / sentByWindow[w.Key]),
            stepClientGc, serverGc, lateByWindow.Keys.Order().Select(w => w * Window.TotalSeconds).ToList(), measureFrom);
    }

    /// <summary>
    /// Four seconds of speech-like audio (a voiced tone with syllable-rate loudness changes over a little noise) as the
    /// 100 ms PCM16 chunks every recorder sends in turn: made once, so the client spends its time sending, not allocating.
    /// </summary>
    private static byte[][] Audio()
    {
        var random = new Random(7);
        var samples = new short[SampleRate * 4];
        for (var i = 0; i < samples.Length; i++)
        {
            var t = (double)i / SampleRate;
            var syllables = 0.5 + (0.5 * Math.Sin(2 * Math.PI * 4 * t));
            var voice = Math.Sin(2 * Math.PI * 180 * t) + (0.5 * Math.Sin(2 * Math.PI * 360 * t)) + (0.25 * Math.Sin(2 * Math.PI * 720 * t));
            samples[i] = (short)((3000 * syllables * voice) + ((random.NextDouble() - 0.5) * 60));
        }
        return samples.Chunk(ChunkSamples).Select(c => MemoryMarshal.AsBytes(c.AsSpan()).ToArray()).ToArray();
    }

    internal static HttpClient Client(Uri node, CookieContainer? cookies) =>
        new(new HttpClientHandler { CookieContainer = cookies ?? new CookieContainer(), UseCookies = cookies is not null, AllowAutoRedirect = false })
        {
            BaseAddress = node,
        };

    /// <summary>The time every core of the machine has spent busy so far (from /proc/stat's first line; zero elsewhere).</summary>
    private static TimeSpan MachineBusy()
    {
        if (!File.Exists("/proc/stat"))
        {
            return TimeSpan.Zero;
        }
        // cpu  user nice system idle iowait irq softirq steal ... in clock ticks of 1/100 s
        var ticks = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(t => long.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        return TimeSpan.FromMilliseconds(10.0 * (ticks.Sum() - ticks[3] - ticks[4]));
    }

    /// <summary>When in the step each collection began, and how long it stopped the process.</summary>
    private static string PausesAt(GcFigures gc, DateTime from, double minMs = 0) => string.Join(' ', gc.Pauses.Where(p => p.Ms >= minMs)
        .Select(p => string.Create(CultureInfo.InvariantCulture, $"{(p.At - from).TotalSeconds:F1} ({p.Ms:F0} ms)")));

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>
    /// A take's chunks as the SignalR client reads them. The client waits for each with its stream's token, and a channel
    /// waiting with a token that can be cancelled allocates a new waiter every time (a fifth of what the client allocated).
    /// Here the channel's own reusable waiter is used, and the token is registered once: it ends the take.
    /// </summary>
    private sealed class TakeChunks<T> : ChannelReader<T>
    {
        // Generic because the client finds the item type in the reader's type arguments. The sender thread's write runs
        // the client's send of the chunk itself, as a browser's audio callback does, instead of queueing it for a
        // thread-pool thread: one hop fewer per chunk on a busy machine.
        private readonly Channel<T> _chunks = Channel.CreateUnbounded<T>(new UnboundedChannelOptions
        {
            SingleReader = true,
            SingleWriter = true,
            AllowSynchronousContinuations = true,
        });
        private CancellationToken _registered;

        public ChannelWriter<T> Writer => _chunks.Writer;

        public override Task Completion => _chunks.Reader.Completion;

        public override bool TryRead([MaybeNullWhen(false)] out T item) => _chunks.Reader.TryRead(out item);

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
        {
            if (cancellationToken.CanBeCanceled && cancellationToken != _registered)
            {
                _registered = cancellationToken;
                cancellationToken.UnsafeRegister(static s => ((ChannelWriter<T>)s!).TryComplete(), _chunks.Writer);
            }
            return _chunks.Reader.WaitToReadAsync(CancellationToken.None);
        }
    }

    /// <summary>One contributor's connection: takes back to back, each chunk's send time kept until its frame comes back.</summary>
    private sealed class RecorderSession
    {
        private readonly HubConnection _connection;
        private readonly long[] _sentAt = new long[1_000];
        private readonly bool[] _sentCounted = new bool[1_000];
        private readonly List<(long SentAt, double Ms)> _delivered = new(2_000);
        private readonly List<long> _countedSentAt = new(2_000);
        private readonly List<double> _takeStarts = [];
        private readonly object _gate = new();
        private TakeChunks<AudioChunk>? _take;
        private Task? _result;
        private int _seq;
        private int _takes;
        private int _takeChunks;
        private Task _start = Task.CompletedTask;

        private RecorderSession(HubConnection connection) => _connection = connection;

        public TimeSpan NextDue { get; set; }

        /// <summary>The length in chunks of this recorder's first take in the step; later takes are all TakeSeconds long.</summary>
        public int FirstTakeChunks { get; set; }

        public long CountedSent { get; private set; }

        public long CountedFrames { get; private set; }

        /// <summary>
        /// Connects to <paramref name="node"/> and takes a prompt. With <paramref name="placeOn"/> the session's grain is
        /// first activated there (a join on that node, then a take-over from this one), so that every chunk crosses nodes.
        /// </summary>
        public static async Task<RecorderSession> OpenAsync(Uri node, Uri? placeOn, Recorder recorder, ConcurrentBag<string> errors)
        {
            if (placeOn is not null)
            {
                await using var elsewhere = Connect(placeOn, recorder);
                await elsewhere.StartAsync();
                await elsewhere.InvokeAsync<SessionView>("Join", recorder.JobId, false);
            }
            var connection = Connect(node, recorder);
            var session = new RecorderSession(connection);
            connection.On<QualityFrame>("frame", session.OnFrame);
            connection.Closed += e =>
            {
                if (e is not null)
                {
                    errors.Add("connection closed: " + e.Message);
                }
                return Task.CompletedTask;
            };
            await connection.StartAsync();
            var view = await connection.InvokeAsync<SessionView>("Join", recorder.JobId, placeOn is not null);
            if (view.Prompt is null)
            {
                view = await connection.InvokeAsync<SessionView>("NextPrompt");
            }
            if (view.Prompt is null)
            {
                throw new InvalidOperationException("no prompt: " + view.Status);
            }
            return session;
        }

        private static HubConnection Connect(Uri node, Recorder recorder) =>
            new HubConnectionBuilder()
                .WithUrl(new Uri(node, RecordingHub.Path), o =>
                {
                    o.Transports = HttpTransportType.WebSockets;
                    o.SkipNegotiation = true;
                    o.Cookies = recorder.Cookies;
                })
                .AddMessagePackProtocol()
                .Build();

        private void OnFrame(QualityFrame frame)
        {
            var now = Stopwatch.GetTimestamp();
            lock (_gate)
            {
                var sent = _sentAt[frame.Seq % _sentAt.Length];
                if (sent != 0)
                {
                    _sentAt[frame.Seq % _sentAt.Length] = 0;
                    // A frame counts when its chunk was sent inside the measured window, so delivered never passes 100 %.
                    if (_sentCounted[frame.Seq % _sentAt.Length])
                    {
                        _delivered.Add((sent, Stopwatch.GetElapsedTime(sent, now).TotalMilliseconds));
                        CountedFrames++;
                    }
                }
            }
        }

        /// <summary>Sends the next 100 ms chunk, starting a new take when the last one is long enough.</summary>
        public void Tick(byte[][] audio, int takeChunks, bool counting, ConcurrentBag<string> errors)
        {
            if (!_start.IsCompleted)
            {
                return;
            }
            if (_take is null || _seq >= _takeChunks)
            {
                _takeChunks = _takes++ == 0 ? FirstTakeChunks : takeChunks;
                var ended = _result;
                _take?.Writer.TryComplete();
                _take = null;
                _start = StartTakeAsync(ended, errors);
                return;
            }
            var pcm = audio[_seq % audio.Length];
            lock (_gate)
            {
                var now = Stopwatch.GetTimestamp();
                _sentAt[_seq % _sentAt.Length] = now;
                _sentCounted[_seq % _sentAt.Length] = counting;
                if (counting)
                {
                    CountedSent++;
                    _countedSentAt.Add(now);
                }
            }
            if (!_take.Writer.TryWrite(new AudioChunk(_seq, pcm, SampleRate)))
            {
                errors.Add("chunk not queued");
            }
            _seq++;
        }

        /// <summary>As the recorder page does: the last take's verdict first, then the next take.</summary>
        private async Task StartTakeAsync(Task? previous, ConcurrentBag<string> errors)
        {
            try
            {
                if (previous is not null)
                {
                    try
                    {
                        await previous;
                    }
                    catch (Exception e)
                    {
                        errors.Add("take: " + e.GetBaseException().Message);
                    }
                }
                var asked = Stopwatch.GetTimestamp();
                var started = await _connection.InvokeAsync<TakeStarted>("StartTake");
                lock (_gate)
                {
                    _takeStarts.Add(Stopwatch.GetElapsedTime(asked).TotalMilliseconds);
                }
                var take = new TakeChunks<AudioChunk>();
                _seq = 0;
                _result = _connection.InvokeAsync<TakeResult?>("Record", started.TakeId, take);
                _take = take;
            }
            catch (Exception e)
            {
                errors.Add("start take: " + e.Message);
            }
        }

        /// <summary>Each counted frame that came back: when its chunk was sent, and how long the frame took.</summary>
        public (long SentAt, double Ms)[] Delivered()
        {
            lock (_gate)
            {
                return _delivered.ToArray();
            }
        }

        public long[] CountedSentAt()
        {
            lock (_gate)
            {
                return _countedSentAt.ToArray();
            }
        }

        public double[] TakeStarts()
        {
            lock (_gate)
            {
                return _takeStarts.ToArray();
            }
        }

        public void EndTake() => _take?.Writer.TryComplete();

        public async Task CloseAsync(ConcurrentBag<string> errors)
        {
            try
            {
                // A take that was starting as the step ended is answered and ended like the others; disposing the connection
                // under it would cancel the call and count a server that answered late as an error.
                await _start.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                errors.Add("start take: no answer in 10 s");
            }
            EndTake();
            try
            {
                if (_result is not null)
                {
                    await _result.WaitAsync(TimeSpan.FromSeconds(10));
                }
            }
            catch (Exception e)
            {
                errors.Add("take: " + e.Message); // the last take of the step failed, never answered, or its connection dropped
            }
            await _connection.DisposeAsync();
        }
    }
}
