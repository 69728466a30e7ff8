using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Crowd.Audio.Analysis;
using Crowd.Audio.Quality;
using Crowd.Audio.Wav;

namespace Crowd.Cli.Audio;

/// <summary><c>crowd audio analyze FILE.wav [--json]</c> and <c>crowd audio bench</c>.</summary>
public static class AudioCommands
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static Command Create()
    {
        var audio = new Command("audio", "Speech-quality analysis of WAV recordings");
        audio.Subcommands.Add(Analyze());
        audio.Subcommands.Add(AudioBench.Create());
        return audio;
    }

    private static Command Analyze()
    {
        var file = new Argument<FileInfo>("file") { Description = "A RIFF/WAVE file: PCM 16/24-bit or 32-bit float, 8–48 kHz, mono or stereo" };
        var json = new Option<bool>("--json") { Description = "Print the report and verdict as JSON" };
        var command = new Command("analyze", "Measure a recording and judge it against the default quality thresholds") { file, json };
        command.SetAction(parse => Run(parse.GetValue(file)!, parse.GetValue(json)));
        return command;
    }

    /// <returns>0 when the take passes, 1 when it fails the gate, 2 when the file cannot be read.</returns>
    private static int Run(FileInfo file, bool asJson)
    {
        ClipReport report;
        try
        {
            report = SpeechAnalyzer.AnalyzeWav(File.ReadAllBytes(file.FullName));
        }
        catch (Exception e) when (e is WavFormatException or IOException or UnauthorizedAccessException)
        {
            var code = e is WavFormatException wav ? wav.Error.ToString() : "Unreadable";
            Console.Error.WriteLine($"{file.Name}: {e.Message} ({code})");
            return 2;
        }

        var verdict = QualityGate.Judge(report, QualityThresholds.Default);
        if (asJson)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { file = file.Name, report, passed = verdict.Passed, reasons = verdict.Reasons }, s_json));
        }
        else
        {
            Print(file.Name, report, verdict);
        }

        return verdict.Passed ? 0 : 1;
    }

    private static void Print(string name, ClipReport r, Verdict verdict)
    {
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(name);
        Console.WriteLine(string.Create(c, $"  duration        {r.DurationSeconds:0.000} s ({r.SampleCount} samples at {r.SampleRate} Hz)"));
        Console.WriteLine(string.Create(c, $"  RMS / peak      {r.RmsDbfs:0.00} / {r.PeakDbfs:0.00} dBFS, speech level {r.SpeechLevelDbfs:0.00} dBFS"));
        Console.WriteLine(string.Create(c, $"  DC offset       {r.DcOffset:0.000000}"));
        Console.WriteLine(string.Create(c, $"  clipping        {r.ClippedSamples} samples ({r.ClippedRatio:P3}) in {r.ClippingEvents} events"));
        Console.WriteLine(string.Create(c, $"  noise floor     {r.NoiseFloorDbfs:0.00} dBFS"));
        Console.WriteLine(string.Create(c, $"  SNR             {r.SnrDb:0.0} dB (WADA {r.WadaSnrDb:0.0}, segmental {r.SegmentalSnrDb:0.0})"));
        Console.WriteLine(string.Create(c, $"  speech          {r.SpeechRatio:P0} of the take, {r.LeadingSilenceSeconds:0.00} s before, {r.TrailingSilenceSeconds:0.00} s after"));
        Console.WriteLine(verdict.Passed ? "  verdict         pass" : "  verdict         fail");
        foreach (var reason in verdict.Reasons)
        {
            Console.WriteLine($"    {reason.Code}: {reason.Hint}");
        }
    }
}
