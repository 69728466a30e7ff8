using System.Globalization;
using Crowd.Audio.Analysis;
using Crowd.Audio.Quality;
using Crowd.Audio.Tests.Corpus;
using Xunit.Abstractions;

namespace Crowd.Audio.Tests;

[Collection(AudioCorpusGroup.Name)]
public sealed class VoiceActivityTests(AudioCorpus corpus, ITestOutputHelper output)
{
    public static TheoryData<string> VoiceNames() => [.. AudioCorpus.Voices.Select(v => v.Name)];

    [Theory]
    [MemberData(nameof(VoiceNames))]
    public void SpeechPaddedWithOneSecondOfPinkNoiseAtTenDecibelsIsFoundWithinOneHundredMillisecondsAtEachEnd(string voiceName)
    {
        var (leadingError, trailingError, report) = EdgeErrors(voiceName, "pink", 10);

        leadingError.ShouldBeInRange(-0.1, 0.1);
        trailingError.ShouldBeInRange(-0.1, 0.1);
        report.SpeechRatio.ShouldBeGreaterThan(0.3);
    }

    /// <summary>
    /// White and brown noise at 10 dB keep both edges within 100 ms. Pink noise at 5 dB and below masks the quietest
    /// trailing syllables, so the edges may move by up to 250 ms; speech is still found in a quarter of the clip or more.
    /// </summary>
    [Fact]
    public void EdgesInOtherNoiseStayWithinTheirWiderBounds()
    {
        foreach (var voice in AudioCorpus.Voices)
        {
            foreach (var (colour, snr, bound) in new[] { ("white", 10.0, 0.1), ("brown", 10.0, 0.1), ("pink", 5.0, 0.25), ("pink", 0.0, 0.25) })
            {
                var (leading, trailing, report) = EdgeErrors(voice.Name, colour, snr);

                leading.ShouldBeInRange(-bound, bound, $"{voice.Name} in {colour} noise at {snr} dB");
                trailing.ShouldBeInRange(-bound, bound, $"{voice.Name} in {colour} noise at {snr} dB");
                report.SpeechRatio.ShouldBeGreaterThan(0.25, $"{voice.Name} in {colour} noise at {snr} dB");
            }
        }
    }

    private (double Leading, double Trailing, ClipReport Report) EdgeErrors(string voiceName, string colour, double snrDb)
    {
        var voice = AudioCorpus.VoiceNamed(voiceName);
        var speech = corpus.Speech(voice);
        var (onset, offset) = TrueSpeechEdges(speech, AudioCorpus.Rate);
        var noise = corpus.Noise(colour);

        // The SNR is set over the espeak clip alone, then the same noise continues for 1 s each side.
        int pad = AudioCorpus.Rate;
        double gain = Math.Sqrt(Signals.Energy(speech) / Signals.Energy(noise.AsSpan(pad, speech.Length)) / Math.Pow(10, snrDb / 10));
        var mix = new float[speech.Length + (2 * pad)];
        for (int i = 0; i < mix.Length; i++)
        {
            float clean = i >= pad && i < pad + speech.Length ? speech[i - pad] : 0;
            mix[i] = 0.4f * (clean + (float)(gain * noise[i]));
        }

        var report = SpeechAnalyzer.AnalyzeWav(Signals.Pcm16(mix, AudioCorpus.Rate));

        double leadingError = report.LeadingSilenceSeconds - (1 + onset);
        double trailingError = report.TrailingSilenceSeconds - (1 + ((double)speech.Length / AudioCorpus.Rate) - offset);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{voiceName,-5} {colour,-5} {snrDb,3:0} dB: leading error {leadingError * 1000,5:+0;-0;0} ms, trailing error {trailingError * 1000,5:+0;-0;0} ms, speech ratio {report.SpeechRatio:0.00}"));
        return (leadingError, trailingError, report);
    }

    [Theory]
    [InlineData("white")]
    [InlineData("pink")]
    [InlineData("brown")]
    public void NoiseOnlyClipIsCalledNonSpeech(string colour)
    {
        var noise = corpus.Noise(colour).AsSpan(0, 4 * AudioCorpus.Rate).ToArray();

        var report = SpeechAnalyzer.AnalyzeWav(Signals.Pcm16(noise, AudioCorpus.Rate));

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{colour}: speech ratio {report.SpeechRatio:0.000}"));
        report.SpeechRatio.ShouldBeLessThan(0.05);
        QualityGate.Judge(report, QualityThresholds.Default).Codes.ShouldBe(["no_speech"]);
    }

    /// <summary>The clean espeak clip's speech runs from the first to the last 5 ms window above −40 dB of its loudest window.</summary>
    private static (double Onset, double Offset) TrueSpeechEdges(float[] speech, int rate)
    {
        int window = rate / 200;
        int windows = speech.Length / window;
        var power = new double[windows];
        for (int w = 0; w < windows; w++)
        {
            power[w] = Signals.Energy(speech.AsSpan(w * window, window)) / window;
        }

        double threshold = power.Max() * 1e-4;
        int first = Array.FindIndex(power, p => p > threshold);
        int last = Array.FindLastIndex(power, p => p > threshold);
        return ((double)first * window / rate, (double)(last + 1) * window / rate);
    }
}
