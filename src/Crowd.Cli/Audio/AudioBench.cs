using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Crowd.Audio.Analysis;
using Crowd.Audio.Wav;

namespace Crowd.Cli.Audio;

/// <summary>
/// <c>crowd audio bench</c>: throughput of the full metric set on one core, in multiples of real time,
/// beside <c>sox FILE -n stats</c> on the same files, and the bytes allocated per 100 ms live frame.
/// Feeds the analyzer the way the hub will: 100 ms PCM16 chunks with live frames.
/// </summary>
internal static class AudioBench
{
    private static readonly string[][] s_voices =
    [
        ["en-us", "Please read this sentence clearly, so that the quality checker can hear every single word."],
        ["de", "Bitte lesen Sie diesen Satz deutlich vor, damit die Prüfung jedes Wort gut verstehen kann."],
        ["cmn", "请清楚地朗读这句话，这样质量检查程序就能听清每一个字。"],
    ];

    private static readonly string[] s_noises = ["whitenoise", "pinknoise", "brownnoise"];

    public static Command Create()
    {
        var longSeconds = new Option<int>("--long-seconds") { Description = "Length of the long file that measures steady-state throughput", DefaultValueFactory = _ => 600 };
        var rounds = new Option<int>("--rounds") { Description = "Timed runs per short file (each side)", DefaultValueFactory = _ => 30 };
        var command = new Command("bench", "Throughput (× real time, one core) and allocation of the analyzer, next to sox stats") { longSeconds, rounds };
        command.SetAction(parse => Run(parse.GetValue(longSeconds), parse.GetValue(rounds)));
        return command;
    }

    private static int Run(int longSeconds, int rounds)
    {
        // One core for us and, by inheritance, for the sox processes we start.
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            Process.GetCurrentProcess().ProcessorAffinity = 1;
        }

        string dir = Path.Combine(Path.GetTempPath(), "crowd-audio-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        try
        {
            var files = BuildCorpus(dir, longSeconds);
#if DEBUG
            Console.WriteLine("WARNING: Debug build; run scripts/audio-bench (Release) for the figures that count.");
#endif
            Console.WriteLine($"crowd audio bench: {RuntimeInformation.FrameworkDescription}, {CpuModel()}, pinned to CPU 0, {(System.Numerics.Vector.IsHardwareAccelerated ? System.Numerics.Vector<float>.Count * 32 : 0)}-bit SIMD");
            Console.WriteLine($"{"file",-22} {"audio s",8} {"ours ×RT",10} {"sox ×RT",10} {"ours/sox",9}");
            WarmUp(files[0]);
            double ourSeconds = 0;
            double soxSeconds = 0;
            double audioSeconds = 0;
            var allocation = new Allocation();
            foreach (var path in files)
            {
                var bytes = File.ReadAllBytes(path);
                var info = WavReader.ReadHeader(bytes);
                bool isLong = Path.GetFileName(path).StartsWith("long", StringComparison.Ordinal);
                int n = isLong ? 10 : rounds;
                double ours = TimeOurs(bytes, info, n, isLong ? null : allocation);
                double sox = TimeSox(path, n);
                double duration = info.DurationSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(path),-22} {duration,8:0.0} {duration / ours,10:0} {duration / sox,10:0} {sox / ours,9:0.0}"));
                if (isLong)
                {
                    PrintCpuTimes(path, bytes, info);
                }
                else
                {
                    ourSeconds += ours;
                    soxSeconds += sox;
                    audioSeconds += duration;
                }
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"all short files",-22} {audioSeconds,8:0.0} {audioSeconds / ourSeconds,10:0} {audioSeconds / soxSeconds,10:0} {soxSeconds / ourSeconds,9:0.0}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"allocated: {(double)allocation.AppendBytes / allocation.Frames:0.###} B per 100 ms frame over {allocation.Frames} frames of Append; {(double)allocation.CompleteBytes / allocation.Takes:0} B per take for Complete (the ClipReport)"));
            Console.WriteLine("Both sides: fastest of the runs, wall time; sox ×RT is `sox FILE -n stats` with its process start. The long file shows steady-state rates; its CPU-seconds line (user + system, /usr/bin/time for sox) is immune to other load on the machine.");
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed class Allocation
    {
        public long AppendBytes { get; set; }
        public long CompleteBytes { get; set; }
        public long Frames { get; set; }
        public long Takes { get; set; }
    }

    /// <returns>Seconds per analysis of the whole file: the fastest run, since other work on a shared machine only ever adds time.</returns>
    private static double TimeOurs(byte[] file, WavInfo info, int rounds, Allocation? allocation)
    {
        if (info.Format is not { Channels: 1, Encoding: WavSampleEncoding.Pcm16 })
        {
            throw new InvalidOperationException("The bench feeds PCM16 mono, as the browser sends it.");
        }

        var pcm = MemoryMarshal.Cast<byte, short>(file.AsSpan(info.DataOffset, info.DataLength)).ToArray();
        var analyzer = new SpeechAnalyzer(info.Format.SampleRate);
        var frames = new LiveFrame[2];
        int chunk = info.Format.SampleRate / 10;
        // Long enough for tiered JIT to reach optimised code before the clock starts.
        var warmUp = Stopwatch.StartNew();
        for (int warm = 0; warm < 3 || warmUp.Elapsed < TimeSpan.FromSeconds(1); warm++)
        {
            Feed(analyzer, pcm, chunk, frames);
            analyzer.Complete();
            analyzer.Reset();
        }

        double seconds = double.MaxValue;
        for (int r = 0; r < rounds; r++)
        {
            long start = Stopwatch.GetTimestamp();
            Feed(analyzer, pcm, chunk, frames);
            analyzer.Complete();
            seconds = Math.Min(seconds, Stopwatch.GetElapsedTime(start).TotalSeconds);
            analyzer.Reset();
        }

        if (allocation is not null)
        {
            for (int r = 0; r < 5; r++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                allocation.Frames += Feed(analyzer, pcm, chunk, frames);
                long appended = GC.GetAllocatedBytesForCurrentThread();
                analyzer.Complete();
                allocation.CompleteBytes += GC.GetAllocatedBytesForCurrentThread() - appended;
                allocation.AppendBytes += appended - before;
                allocation.Takes++;
                analyzer.Reset();
            }
        }

        return seconds;
    }

    /// <summary>
    /// Wall time on a machine shared with other work measures the queue as much as the code; CPU
    /// seconds (user + system) do not, so the long file is also timed that way on both sides.
    /// </summary>
    private static void PrintCpuTimes(string path, byte[] file, WavInfo info)
    {
        const int Runs = 10;
        var pcm = MemoryMarshal.Cast<byte, short>(file.AsSpan(info.DataOffset, info.DataLength)).ToArray();
        var analyzer = new SpeechAnalyzer(info.Format.SampleRate);
        var frames = new LiveFrame[2];
        int chunk = info.Format.SampleRate / 10;
        using var self = Process.GetCurrentProcess();
        var before = self.TotalProcessorTime;
        for (int r = 0; r < Runs; r++)
        {
            Feed(analyzer, pcm, chunk, frames);
            analyzer.Complete();
            analyzer.Reset();
        }

        self.Refresh();
        double ours = (self.TotalProcessorTime - before).TotalSeconds / Runs;

        double duration = info.DurationSeconds;
        if (!File.Exists("/usr/bin/time"))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"  same, CPU seconds",-22} {duration,8:0.0} {duration / ours,10:0} {"n/a",10} (sox side needs GNU time: apt-get install time)"));
            return;
        }

        double sox = 0;
        for (int r = 0; r < Runs; r++)
        {
            // GNU time prints the child's CPU seconds on the last line of stderr.
            string output = Tool("/usr/bin/time", "-f", "%U %S", "sox", path, "-n", "stats");
            var fields = output.TrimEnd().Split('\n')[^1].Split(' ');
            sox += (double.Parse(fields[0], CultureInfo.InvariantCulture) + double.Parse(fields[1], CultureInfo.InvariantCulture)) / Runs;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"  same, CPU seconds",-22} {duration,8:0.0} {duration / ours,10:0} {duration / sox,10:0} {sox / ours,9:0.0}"));
    }

    /// <summary>
    /// Tier-1 code comes from a background JIT thread that shares our one core, so it can take a few
    /// seconds on a busy machine; until then the first file would be timed on unoptimised code.
    /// </summary>
    private static void WarmUp(string path)
    {
        var file = File.ReadAllBytes(path);
        var info = WavReader.ReadHeader(file);
        var pcm = MemoryMarshal.Cast<byte, short>(file.AsSpan(info.DataOffset, info.DataLength)).ToArray();
        var analyzer = new SpeechAnalyzer(info.Format.SampleRate);
        var frames = new LiveFrame[2];
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(3))
        {
            Feed(analyzer, pcm, info.Format.SampleRate / 10, frames);
            analyzer.Complete();
            analyzer.Reset();
        }
    }

    private static int Feed(SpeechAnalyzer analyzer, short[] pcm, int chunk, LiveFrame[] frames)
    {
        int written = 0;
        for (int offset = 0; offset < pcm.Length; offset += chunk)
        {
            written += analyzer.Append(pcm.AsSpan(offset, Math.Min(chunk, pcm.Length - offset)), frames);
        }

        return written;
    }

    private static double TimeSox(string path, int rounds)
    {
        Tool("sox", path, "-n", "stats");
        double seconds = double.MaxValue;
        for (int r = 0; r < rounds; r++)
        {
            long start = Stopwatch.GetTimestamp();
            Tool("sox", path, "-n", "stats");
            seconds = Math.Min(seconds, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        return seconds;
    }

    private static List<string> BuildCorpus(string dir, int longSeconds)
    {
        var clips = new List<string>();
        for (int v = 0; v < s_voices.Length; v++)
        {
            string raw = Path.Combine(dir, $"raw-{v}.wav");
            string speech = Path.Combine(dir, $"speech-{v}.wav");
            string noise = Path.Combine(dir, $"noise-{v}.wav");
            string clip = Path.Combine(dir, $"{s_voices[v][0]}-{s_noises[v][..^5]}.wav");
            Tool("espeak-ng", "-v", s_voices[v][0], "-w", raw, s_voices[v][1]);
            Tool("sox", "-D", raw, "-r", "16000", "-b", "16", speech, "pad", "0.5", "0.5");
            Tool("sox", "-R", "-D", speech, noise, "synth", s_noises[v], "vol", "0.03");
            Tool("sox", "-D", "-m", speech, noise, clip);
            clips.Add(clip);
        }

        string wide = Path.Combine(dir, $"{s_voices[0][0]}-{s_noises[0][..^5]}-48k.wav");
        Tool("sox", "-D", clips[0], "-r", "48000", wide);

        double tripleSeconds = clips.Sum(c => WavReader.ReadHeader(File.ReadAllBytes(c)).DurationSeconds);
        string longFile = Path.Combine(dir, $"long-{longSeconds}s.wav");
        int repeats = Math.Max(0, (int)Math.Ceiling(longSeconds / tripleSeconds) - 1);
        Tool("sox", ["-D", .. clips, longFile, "repeat", repeats.ToString(CultureInfo.InvariantCulture), "trim", "0", longSeconds.ToString(CultureInfo.InvariantCulture)]);
        return [.. clips, wide, longFile];
    }

    private static string Tool(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}; install it (apt-get install sox espeak-ng).");
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed: {stderr.Result}");
        }

        return stderr.Result;
    }

    private static string CpuModel()
    {
        var line = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) : null;
        return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
    }
}
