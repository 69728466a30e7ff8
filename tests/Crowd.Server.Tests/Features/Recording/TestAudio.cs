using System.Diagnostics;
using Crowd.Audio.Wav;

namespace Crowd.Server.Tests.Features.Recording;

/// <summary>Speech generated at test time with espeak-ng, pink noise and silence by sox, and mixes of the two at a chosen SNR (both tools installed by scripts/setup --tests).</summary>
public static class TestAudio
{
    private static readonly Lazy<Task<string>> s_folder = new(GenerateAsync);

    public const string Sentence = "The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore.";

    public static async Task<string> SpeechWavAsync() => Path.Combine(await s_folder.Value, "speech-16k.wav");

    /// <summary>The speech at its capture rate (44.1 kHz stereo, as a microphone delivers), for the browser's fake microphone.</summary>
    public static async Task<string> SpeechCaptureWavAsync() => Path.Combine(await s_folder.Value, "speech-capture.wav");

    /// <summary>The speech with pink noise under it at <paramref name="snrDb"/> (speech energy over noise energy), at the capture rate.</summary>
    public static async Task<string> SpeechInNoiseCaptureWavAsync(int snrDb)
    {
        var folder = await s_folder.Value;
        var capture = Path.Combine(folder, $"speech-snr{snrDb}-capture.wav");
        if (!File.Exists(capture))
        {
            var speech = await SpeechSamplesAsync();
            var noise = Samples(await File.ReadAllBytesAsync(Path.Combine(folder, "noise-16k.wav")));
            double Energy(short[] x, int n) => x.Take(n).Sum(v => (double)v * v);
            var gain = Math.Sqrt(Energy(speech, speech.Length) / Energy(noise, speech.Length) / Math.Pow(10, snrDb / 10.0));
            var mix = new short[speech.Length];
            for (var i = 0; i < mix.Length; i++)
            {
                mix[i] = (short)Math.Clamp(speech[i] + (gain * noise[i]), short.MinValue, short.MaxValue);
            }
            var mono = Path.Combine(folder, $"speech-snr{snrDb}-16k.wav");
            await File.WriteAllBytesAsync(mono, WavWriter.Pcm16Mono(mix, 16_000));
            await RunAsync("sox", mono, "-r", "44100", "-c", "2", "-b", "16", capture);
        }
        return capture;
    }

    /// <summary>Pink noise alone, at the capture rate: a room with nobody speaking.</summary>
    public static async Task<string> NoiseCaptureWavAsync() => Path.Combine(await s_folder.Value, "noise.wav");

    /// <summary>Digital silence at the capture rate: a muted or wrong microphone.</summary>
    public static async Task<string> SilenceCaptureWavAsync() => Path.Combine(await s_folder.Value, "silence-capture.wav");

    public static async Task<short[]> SpeechSamplesAsync() => Samples(await File.ReadAllBytesAsync(await SpeechWavAsync()));

    public static short[] Samples(byte[] wav)
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
        await RunAsync("sox", noise, "-r", "16000", "-c", "1", "-b", "16", Path.Combine(folder, "noise-16k.wav"));
        await RunAsync("sox", "-n", "-r", "44100", "-c", "2", "-b", "16", Path.Combine(folder, "silence-capture.wav"), "trim", "0", "5");
        return folder;
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
