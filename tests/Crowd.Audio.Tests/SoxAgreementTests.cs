using System.Globalization;
using Crowd.Audio.Analysis;
using Crowd.Audio.Tests.Corpus;
using Xunit.Abstractions;

namespace Crowd.Audio.Tests;

/// <summary>
/// Agreement "to sox's printed precision": sox prints dB to 2 decimals and DC offset to 6, so our value
/// must lie within half a unit of the last printed digit of sox's. Counts are printed to 3 significant figures.
/// </summary>
[Collection(AudioCorpusGroup.Name)]
public sealed class SoxAgreementTests(AudioCorpus corpus, ITestOutputHelper output)
{
    public static TheoryData<string> MonoFiles() =>
    [
        "speech-8000", "speech-16000", "speech-22050", "speech-44100", "speech-48000",
        "noisy-pink-10", "noisy-white-0", "noisy-brown-30",
        "clipped-6", "clipped-12", "clipped-24",
        "padded", "silence", "pcm24-48000", "float-44100", "quiet",
    ];

    [Theory]
    [MemberData(nameof(MonoFiles))]
    public void LevelsDcOffsetAndFullScaleCountAgreeWithSoxStats(string name)
    {
        string path = Build(name);
        var sox = SoxStats.Of(path);

        var report = SpeechAnalyzer.AnalyzeWav(File.ReadAllBytes(path));

        AssertAgrees(name, report, sox);
    }

    [Fact]
    public void StereoIsMixedToMonoTheWaySoxChannelsOneMixesIt()
    {
        var en = AudioCorpus.Voices[0];
        var de = AudioCorpus.Voices[2];
        string path = corpus.PathOf("stereo.wav");
        Tools.Sox("-D", "-M", corpus.SpeechPath(en, 44100), corpus.SpeechPath(de, 44100), path, "gain", "2");

        var report = SpeechAnalyzer.AnalyzeWav(File.ReadAllBytes(path));

        AssertAgrees("stereo", report, SoxStats.Of(path, "channels", "1"));
    }

    private void AssertAgrees(string name, ClipReport report, SoxStats sox)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: sox DC {sox.DcOffset} Pk {sox.PeakDb} RMS {sox.RmsDb} Pk count {sox.PeakCount} | ours DC {report.DcOffset:0.000000} Pk {report.PeakDbfs:0.00} RMS {report.RmsDbfs:0.00} full-scale {report.ClippedSamples}"));
        report.DcOffset.ShouldBe(SoxStats.Number(sox.DcOffset), 0.5e-6 + 1e-12, "DC offset");
        AssertDb(report.PeakDbfs, sox.PeakDb, "Pk lev dB");
        AssertDb(report.RmsDbfs, sox.RmsDb, "RMS lev dB");
        AssertCount(report.SampleCount, sox.SampleCount, "Num samples");

        bool bothRails = sox.MinLevel == "-1.000000" && sox.MaxLevel == "0.999969";
        bool noRail = SoxStats.Number(sox.MinLevel) > -1 && SoxStats.Number(sox.MaxLevel) < 0.999969;
        if (bothRails)
        {
            // sox counts the samples at the minimum and at the maximum; when those are the rails, that is our count.
            AssertCount(report.ClippedSamples, sox.PeakCount, "Pk count");
        }
        else
        {
            noRail.ShouldBeTrue($"{name} should clip at both rails or at neither");
            report.ClippedSamples.ShouldBe(0);
        }
    }

    private static void AssertDb(double ours, string printed, string field)
    {
        double sox = SoxStats.Number(printed);
        if (double.IsNegativeInfinity(sox))
        {
            ours.ShouldBe(Decibels.Floor, field);
            return;
        }

        ours.ShouldBe(sox, 0.005 + 1e-9, field);
    }

    private static void AssertCount(long ours, string printed, string field)
    {
        double sox = SoxStats.Count(printed);
        int digits = (int)Math.Floor(Math.Log10(Math.Max(1, ours))) + 1;
        double unit = Math.Pow(10, Math.Max(0, digits - 3));
        Math.Abs(ours - sox).ShouldBeLessThanOrEqualTo((unit / 2) + 1e-9, $"{field}: ours {ours}, sox {printed}");
    }

    private string Build(string name)
    {
        string path = corpus.PathOf(name + ".wav");
        if (File.Exists(path))
        {
            return path;
        }

        var en = AudioCorpus.Voices[0];
        var zh = AudioCorpus.Voices[3];
        string[] parts = name.Split('-');
        switch (parts[0])
        {
            case "speech":
                int rate = int.Parse(parts[1], CultureInfo.InvariantCulture);
                return corpus.SpeechPath(AudioCorpus.Voices[Array.IndexOf(AudioCorpus.SampleRates, rate) % AudioCorpus.Voices.Length], rate);
            case "noisy":
                var mix = Signals.Mix(corpus.Speech(zh), corpus.Noise(parts[1]), double.Parse(parts[2], CultureInfo.InvariantCulture), 0.5, AudioCorpus.Rate);
                File.WriteAllBytes(path, Signals.Pcm16(mix, AudioCorpus.Rate));
                break;
            case "clipped":
                Tools.Sox("-D", corpus.SpeechPath(AudioCorpus.Voices[2], 16000), path, "gain", parts[1]);
                break;
            case "padded":
                Tools.Sox("-D", corpus.SpeechPath(en, 16000), path, "pad", "1", "1.5");
                break;
            case "silence":
                Tools.Sox("-D", "-n", "-r", "16000", "-b", "16", path, "trim", "0", "2");
                break;
            case "pcm24":
                Tools.Sox("-D", corpus.PathOf("en-f-raw.wav"), "-r", "48000", "-b", "24", path, "gain", "-3");
                break;
            case "float":
                Tools.Sox("-D", corpus.PathOf("de-raw.wav"), "-r", "44100", "-e", "floating-point", "-b", "32", path, "gain", "-1");
                break;
            case "quiet":
                Tools.Sox("-D", corpus.SpeechPath(en, 16000), path, "gain", "-40");
                break;
        }

        return path;
    }
}
