using Crowd.Audio.Analysis;
using Crowd.Audio.Quality;
using Crowd.Audio.Tests.Corpus;

namespace Crowd.Audio.Tests;

[Collection(AudioCorpusGroup.Name)]
public sealed class VerdictTests(AudioCorpus corpus)
{
    private const int Rate = AudioCorpus.Rate;

    [Fact]
    public void CleanSpeechPasses()
    {
        foreach (var voice in AudioCorpus.Voices)
        {
            var verdict = Judge(Padded(corpus.Speech(voice), 0.3));

            verdict.Passed.ShouldBeTrue($"{voice.Name}: {string.Join(", ", verdict.Codes)}");
        }
    }

    [Fact]
    public void ClippedSpeechFailsWithTheClippingReason()
    {
        var loud = corpus.Speech(AudioCorpus.Voices[0]).Select(x => Math.Clamp(x * 8, -1f, 1f)).ToArray();

        var verdict = Judge(Padded(loud, 0.3));

        verdict.Codes.ShouldBe(["clipping"]);
        verdict.Reasons[0].Hint.ShouldBe("Your voice is clipping — move back from the microphone");
    }

    [Fact]
    public void SilentClipFailsWithTheNoSpeechReason()
    {
        Judge(new float[3 * Rate]).Codes.ShouldBe(["no_speech"]);
    }

    [Fact]
    public void TooShortClipFailsWithTheTooShortReason()
    {
        Judge(corpus.Word(AudioCorpus.Voices[0])).Codes.ShouldBe(["too_short"]);
    }

    [Fact]
    public void TooLongClipFailsWithTheTooLongReason()
    {
        var speech = corpus.Speech(AudioCorpus.Voices[3]);

        Judge([.. speech, .. speech]).Codes.ShouldBe(["too_long"]);
    }

    [Fact]
    public void NoisyClipFailsWithTheTooNoisyReason()
    {
        var mix = Signals.Mix(corpus.Speech(AudioCorpus.Voices[2]), corpus.Noise("pink"), 5, 0.3, Rate);

        var verdict = Judge(mix);

        verdict.Codes.ShouldBe(["too_noisy"]);
        verdict.Reasons[0].Hint.ShouldBe("Too much background noise — move somewhere quieter");
    }

    [Fact]
    public void QuietClipFailsWithTheTooQuietReason()
    {
        var quiet = corpus.Speech(AudioCorpus.Voices[1]).Select(x => x * 0.03f).ToArray();

        Judge(Padded(quiet, 0.3)).Codes.ShouldBe(["too_quiet"]);
    }

    [Fact]
    public void LongPausesAtBothEndsFailWithTheSilenceReasons()
    {
        Judge(Padded(corpus.Speech(AudioCorpus.Voices[0]), 2.5)).Codes.ShouldBe(["leading_silence", "trailing_silence"]);
    }

    [Fact]
    public void EveryReasonHasAStableCodeAndAnEnglishHint()
    {
        var codes = Enum.GetValues<QualityIssue>().Select(i => i.Code()).ToArray();

        codes.ShouldBe(["too_short", "too_long", "too_quiet", "clipping", "too_noisy", "no_speech", "leading_silence", "trailing_silence"]);
        Enum.GetValues<QualityIssue>().ShouldAllBe(i => i.Hint().Length > 20);
    }

    [Fact]
    public void JudgingIsPureAndUsesTheJobsThresholds()
    {
        var report = SpeechAnalyzer.AnalyzeWav(Signals.Pcm16(Padded(corpus.Speech(AudioCorpus.Voices[0]), 0.3), Rate));
        var strict = QualityThresholds.Default with { MaxDurationSeconds = 2 };

        QualityGate.Judge(report, QualityThresholds.Default).Passed.ShouldBeTrue();
        QualityGate.Judge(report, strict).Codes.ShouldBe(["too_long"]);
        QualityGate.Judge(report, QualityThresholds.Default).Passed.ShouldBeTrue();
    }

    private static Verdict Judge(float[] samples) =>
        QualityGate.Judge(SpeechAnalyzer.AnalyzeWav(Signals.Pcm16(samples, Rate)), QualityThresholds.Default);

    /// <summary>Adds a quiet room tone (−70 dBFS white noise) so pads are not digital zero.</summary>
    private static float[] Padded(float[] speech, double seconds)
    {
        int pad = (int)(seconds * Rate);
        var random = new Random(7);
        var result = new float[speech.Length + (2 * pad)];
        for (int i = 0; i < result.Length; i++)
        {
            float tone = (float)((random.NextDouble() - 0.5) * 0.001);
            result[i] = tone + (i >= pad && i < pad + speech.Length ? speech[i - pad] : 0);
        }

        return result;
    }
}
