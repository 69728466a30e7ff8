using Crowd.Audio.Analysis;
using Crowd.Audio.Quality;
using Crowd.Audio.Tests.Corpus;
using Xunit.Abstractions;

namespace Crowd.Audio.Tests;

/// <summary>The live hints agree with the verdict: the same thresholds, the same measures, while the take runs.</summary>
[Collection(AudioCorpusGroup.Name)]
public sealed class LiveQualityTests(AudioCorpus corpus, ITestOutputHelper output)
{
    private const int Rate = AudioCorpus.Rate;

    private static (List<LiveAssessment> Live, Verdict Verdict, ClipReport Report) Take(float[] samples, QualityThresholds? thresholds = null)
    {
        thresholds ??= QualityThresholds.Default;
        var analyzer = new SpeechAnalyzer(Rate);
        var live = new LiveQuality(thresholds);
        var frames = new LiveFrame[4];
        var seen = new List<LiveAssessment>();
        for (var at = 0; at < samples.Length; at += Rate / 10)
        {
            var written = analyzer.Append(samples.AsSpan(at, Math.Min(Rate / 10, samples.Length - at)), frames);
            for (var i = 0; i < written; i++)
            {
                seen.Add(live.Next(frames[i]));
            }
        }
        var report = analyzer.Complete();
        return (seen, QualityGate.Judge(report, thresholds), report);
    }

    private static int FirstFrameWith(List<LiveAssessment> live, QualityIssue issue) => live.FindIndex(a => a.Hints.Contains(issue.Code()));

    [Theory]
    [MemberData(nameof(AudioCorpus.VoicesAndColours), MemberType = typeof(AudioCorpus))]
    public void CleanSpeechAtThirtyDecibelsNeverShowsTheNoiseHintAndPasses(string voice, string noise)
    {
        var (live, verdict, report) = Take(Signals.Mix(corpus.Speech(AudioCorpus.VoiceNamed(voice)), corpus.Noise(noise), 30, 0.3, Rate));

        output.WriteLine($"verdict SNR {report.SnrDb:F1} dB; live SNR min {live.Skip(10).Min(a => a.SnrDb):F1}, last {live[^1].SnrDb:F1}");
        FirstFrameWith(live, QualityIssue.TooNoisy).ShouldBe(-1, "no noise hint at any point");
        verdict.Reasons.Select(r => r.Code).ShouldNotContain(QualityIssue.TooNoisy.Code());
        live.ShouldContain(a => a.Level == LiveLevel.Good, "the meter is green while the voice is at a usable level");
    }

    [Theory]
    [MemberData(nameof(AudioCorpus.VoicesAndColours), MemberType = typeof(AudioCorpus))]
    public void SpeechAtFiveDecibelsShowsTheNoiseHintWithinASecondAndFailsForNoise(string voice, string noise)
    {
        var (live, verdict, report) = Take(Signals.Mix(corpus.Speech(AudioCorpus.VoiceNamed(voice)), corpus.Noise(noise), 5, 0.3, Rate));

        var first = FirstFrameWith(live, QualityIssue.TooNoisy);
        output.WriteLine($"verdict SNR {report.SnrDb:F1} dB; noise hint first at frame {first}; live SNR last {live[^1].SnrDb:F1}");
        first.ShouldBeInRange(0, 9, "within the first second of the take");
        verdict.Reasons.Select(r => r.Code).ShouldContain(QualityIssue.TooNoisy.Code());
    }

    /// <summary>A browser's fake microphone loops its file, so a take starts anywhere in it, often mid-sentence.</summary>
    [Theory]
    [InlineData(0.5)]
    [InlineData(1.2)]
    [InlineData(2.7)]
    [InlineData(4.1)]
    public void ATakeThatStartsMidSentenceJudgesNoiseTheSameWay(double startSeconds)
    {
        static float[] Looped(float[] mix, double start)
        {
            var from = (int)(start * Rate);
            return [.. mix.AsSpan(from), .. mix, .. mix.AsSpan(0, from)];
        }
        var voice = AudioCorpus.Voices[0];

        var (clean, _, cleanReport) = Take(Looped(Signals.Mix(corpus.Speech(voice), corpus.Noise("pink"), 30, 0.3, Rate), startSeconds));
        var (noisy, _, _) = Take(Looped(Signals.Mix(corpus.Speech(voice), corpus.Noise("pink"), 5, 0.3, Rate), startSeconds));

        output.WriteLine($"30 dB: live SNR min {clean.Min(a => a.SnrDb):F1}, verdict {cleanReport.SnrDb:F1}; 5 dB: noise hint at frame {FirstFrameWith(noisy, QualityIssue.TooNoisy)}");
        FirstFrameWith(clean, QualityIssue.TooNoisy).ShouldBe(-1);
        FirstFrameWith(noisy, QualityIssue.TooNoisy).ShouldBeInRange(0, 9);
    }

    [Theory]
    [InlineData("white")]
    [InlineData("pink")]
    [InlineData("brown")]
    public void PureNoiseNeverTurnsTheMeterGreen(string noise)
    {
        var (live, verdict, _) = Take(corpus.Noise(noise).AsSpan(0, 8 * Rate).ToArray());

        live.ShouldNotContain(a => a.Level == LiveLevel.Good);
        verdict.Passed.ShouldBeFalse();
    }

    /// <summary>
    /// A browser whose audio thread misses its deadline fills the gap with digital silence. The noise after the gap is
    /// the same noise as before it, not a voice.
    /// </summary>
    [Theory]
    [InlineData("white", 0.0, 0.2)]
    [InlineData("pink", 0.0, 0.5)]
    [InlineData("pink", 2.0, 0.1)]
    [InlineData("pink", 2.0, 0.3)]
    [InlineData("pink", 2.0, 1.0)]
    [InlineData("brown", 3.0, 0.5)]
    [InlineData("pink", 1.0, 2.5)]
    public void NoiseAfterADropoutOfDigitalSilenceDoesNotTurnTheMeterGreen(string noise, double atSeconds, double gapSeconds)
    {
        var samples = corpus.Noise(noise).AsSpan(0, 8 * Rate).ToArray();
        samples.AsSpan((int)(atSeconds * Rate), (int)(gapSeconds * Rate)).Clear();

        var (live, verdict, report) = Take(samples);

        output.WriteLine($"levels: {string.Join(' ', live.Select(a => a.Level.Code()[0]))}; verdict {verdict.Passed} SNR {report.SnrDb:F1} speech {report.SpeechRatio:F2}");
        live.ShouldNotContain(a => a.Level == LiveLevel.Good);
        verdict.Passed.ShouldBeFalse();
    }

    /// <summary>
    /// A microphone that opens as the take starts can give its first milliseconds quieter than the room: a fade-in, a
    /// filter settling. The room that follows is the same room, not a voice.
    /// </summary>
    [Theory]
    [InlineData("pink", "fade", 0.02)]
    [InlineData("pink", "fade", 0.05)]
    [InlineData("pink", "fade", 0.1)]
    [InlineData("white", "fade", 0.03)]
    [InlineData("brown", "fade", 0.05)]
    [InlineData("pink", "quiet", 0.016)]
    [InlineData("pink", "quiet", 0.032)]
    [InlineData("pink", "quiet", 0.06)]
    public void NoiseThatStartsQuieterThanTheRoomDoesNotTurnTheMeterGreen(string noise, string start, double seconds)
    {
        var samples = corpus.Noise(noise).AsSpan(0, 5 * Rate).ToArray();
        var n = (int)(seconds * Rate);
        for (var i = 0; i < n; i++)
        {
            samples[i] *= start == "fade" ? (float)i / n : 0.05f;
        }

        var (live, verdict, report) = Take(samples);

        output.WriteLine($"levels: {string.Join(' ', live.Select(a => a.Level.Code()[0]))}; verdict {verdict.Passed} SNR {report.SnrDb:F1} speech {report.SpeechRatio:F2}");
        live.ShouldNotContain(a => a.Level == LiveLevel.Good);
        verdict.Passed.ShouldBeFalse();
    }

    /// <summary>A voice with nothing but digital silence between its words, as from a hard noise gate, is heard as a voice.</summary>
    [Theory]
    [InlineData("en")]
    [InlineData("en-f")]
    [InlineData("de")]
    [InlineData("zh")]
    public void GatedSpeechTurnsTheMeterGreenAndPasses(string voice)
    {
        var speech = corpus.Speech(AudioCorpus.VoiceNamed(voice));
        var zeros = speech.Count(x => x == 0);
        var (live, verdict, report) = Take(speech);

        output.WriteLine($"zeros {zeros * 100.0 / speech.Length:F0} %; levels: {string.Join(' ', live.Select(a => a.Level.Code()[0]))}; verdict {verdict.Passed} SNR {report.SnrDb:F1} speech {report.SpeechRatio:F2}");
        live.ShouldContain(a => a.Level == LiveLevel.Good);
        verdict.Passed.ShouldBeTrue();
    }

    [Fact]
    public void SilenceSaysWeCannotHearYouAfterTwoSecondsAndNeverGreen()
    {
        var (live, verdict, _) = Take(new float[5 * Rate]);

        FirstFrameWith(live, QualityIssue.NoSpeech).ShouldBe(LiveQuality.NoSpeechFrames - 1);
        live.Skip(LiveQuality.NoSpeechFrames).ShouldAllBe(a => a.Hints.Contains(QualityIssue.NoSpeech.Code()));
        live.ShouldAllBe(a => a.Level == LiveLevel.NoSpeech);
        verdict.Reasons.Select(r => r.Code).ShouldContain(QualityIssue.NoSpeech.Code());
    }

    [Fact]
    public void SpeechBelowTheJobsMinimumLevelShowsTooQuietAsTheVerdictDoes()
    {
        var speech = corpus.Speech(AudioCorpus.Voices[0]).Select(x => x * 0.01f).ToArray(); // about 40 dB down

        var (live, verdict, report) = Take(speech);

        output.WriteLine($"speech level {report.SpeechLevelDbfs:F1} dBFS");
        live.ShouldContain(a => a.Hints.Contains(QualityIssue.TooQuiet.Code()));
        live.ShouldNotContain(a => a.Level == LiveLevel.Good);
        verdict.Reasons.Select(r => r.Code).ShouldContain(QualityIssue.TooQuiet.Code());
    }

    [Fact]
    public void ARaisedMinimumSnrOfTheJobMovesTheLiveHintWithTheVerdict()
    {
        var strict = QualityThresholds.Default with { MinSnrDb = 35 };
        var (live, verdict, _) = Take(Signals.Mix(corpus.Speech(AudioCorpus.Voices[0]), corpus.Noise("pink"), 25, 0.3, Rate), strict);

        FirstFrameWith(live, QualityIssue.TooNoisy).ShouldBeGreaterThanOrEqualTo(0);
        verdict.Reasons.Select(r => r.Code).ShouldContain(QualityIssue.TooNoisy.Code());
    }
}
