using System.Diagnostics;
using Crowd.Audio.Wav;

namespace Crowd.Server.Tests.Features.Recording;

/// <summary>Speech generated at test time with espeak-ng, and a noisy copy mixed by sox (both installed by scripts/setup --tests).</summary>
public static class TestAudio
{
    private static readonly Lazy<Task<string>> s_folder = new(GenerateAsync);

    public const string Sentence = "The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore.";

    public static async Task<string> SpeechWavAsync() => Path.Combine(await s_folder.Value, "speech-16k.wav");

    /// <summary>The speech at its capture rate (44.1 kHz stereo, as a microphone delivers), for the browser's fake microphone.</summary>
    public static async Task<string> SpeechCaptureWavAsync() => Path.Combine(await s_folder.Value, "speech-capture.wav");

    public static async Task<string> NoisyCaptureWavAsync() => Path.Combine(await s_folder.Value, "noisy-capture.wav");

    public static async Task<short[]> SpeechSamplesAsync() => Samples(await File.ReadAllBytesAsync(await SpeechWavAsync()));

    public static async Task<short[]> NoisySamples16kAsync() => Samples(await File.ReadAllBytesAsync(Path.Combine(await s_folder.Value, "noisy-16k.wav")));

    private static short[] Samples(byte[] wav)
    {
        var info = WavReader.ReadHeader(wav);
        var data = wav.AsSpan(info.DataOffset, info.DataLength);
        var samples = new short[data.Length / 2];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = (short)(data[2 * i] | (data[(2 * i) + 1] << 8));
        }
        return samples;
    }

    private static async Task<string> GenerateAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), "crowd-test-audio-" + Environment.ProcessId);
        Directory.CreateDirectory(folder);
        var raw = Path.Combine(folder, "speech-raw.wav");
        await RunAsync("espeak-ng", "-v", "en-us", "-s", "150", "-a", "120", "-w", raw, Sentence);
        // A short lead-in and tail of quiet room, as a real take has.
        var padded = Path.Combine(folder, "speech-padded.wav");
        await RunAsync("sox", raw, padded, "pad", "0.3", "0.3");
        await RunAsync("sox", padded, "-r", "16000", "-c", "1", "-b", "16", Path.Combine(folder, "speech-16k.wav"));
        await RunAsync("sox", padded, "-r", "44100", "-c", "2", "-b", "16", Path.Combine(folder, "speech-capture.wav"));
        var noise = Path.Combine(folder, "noise.wav");
        await RunAsync("sox", "-n", "-r", "44100", "-c", "2", "-b", "16", noise, "synth", "30", "pinknoise", "vol", "0.35");
        var speech44 = Path.Combine(folder, "speech-capture.wav");
        var noisy = Path.Combine(folder, "noisy-capture.wav");
        await RunAsync("sox", "-m", speech44, noise, noisy, "trim", "0", DurationOf(speech44));
        await RunAsync("sox", noisy, "-r", "16000", "-c", "1", "-b", "16", Path.Combine(folder, "noisy-16k.wav"));
        return folder;
    }

    private static string DurationOf(string wav)
    {
        var info = WavReader.ReadHeader(File.ReadAllBytes(wav));
        return ((double)info.DataLength / info.Format.BlockAlign / info.Format.SampleRate).ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task RunAsync(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {tool}; run scripts/setup --tests.");
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed: {error}");
        }
    }
}
