using Crowd.Audio.Analysis;
using Crowd.Audio.Tests.Corpus;

namespace Crowd.Audio.Tests;

[Collection(AudioCorpusGroup.Name)]
public sealed class StreamingAnalyzerTests(AudioCorpus corpus)
{
    private const int Rate = AudioCorpus.Rate;
    private const int Chunk = Rate / 10;

    [Fact]
    public void AppendingHundredMillisecondChunksAllocatesNothingInSteadyState()
    {
        var pcm = ToPcm16(Signals.Mix(corpus.Speech(AudioCorpus.Voices[0]), corpus.Noise("pink"), 20, 0.5, Rate));
        var analyzer = new SpeechAnalyzer(Rate);
        var frames = new LiveFrame[4];

        // Steady state: past tiered JIT's promotions, which can allocate on the calling thread.
        var warmUp = System.Diagnostics.Stopwatch.StartNew();
        while (warmUp.Elapsed < TimeSpan.FromSeconds(1))
        {
            FeedInChunks(analyzer, pcm, frames);
            analyzer.Complete();
            analyzer.Reset();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        int chunks = 0;
        for (int take = 0; take < 5; take++)
        {
            chunks += FeedInChunks(analyzer, pcm, frames);
            analyzer.Reset();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        chunks.ShouldBeGreaterThan(300);
        allocated.ShouldBe(0);
    }

    [Fact]
    public void EveryHundredMillisecondsOfAudioYieldsOneLiveFrame()
    {
        var pcm = ToPcm16(Signals.Mix(corpus.Speech(AudioCorpus.Voices[2]), corpus.Noise("white"), 20, 0.5, Rate));
        var analyzer = new SpeechAnalyzer(Rate);
        var live = new List<LiveFrame>();
        var frames = new LiveFrame[8];
        var random = new Random(3);
        for (int offset = 0; offset < pcm.Length;)
        {
            int n = Math.Min(pcm.Length - offset, random.Next(1, 2000));
            int written = analyzer.Append(pcm.AsSpan(offset, n), frames);
            live.AddRange(frames.Take(written));
            offset += n;
        }

        live.Count.ShouldBe(pcm.Length / Chunk);
        live.Select(f => f.Index).ShouldBe(Enumerable.Range(0, live.Count));
        live.Take(4).ShouldAllBe(f => !f.Speech);
        live.Count(f => f.Speech).ShouldBeGreaterThan(live.Count / 3);
        live.ShouldAllBe(f => f.PeakDbfs >= f.RmsDbfs && f.ClippedSamples == 0);
        live[^1].NoiseFloorDbfs.ShouldBeLessThan(live.Where(f => f.Speech).Average(f => f.RmsDbfs) - 10);
    }

    [Fact]
    public void LiveFramesCountSamplesNearFullScaleAsClipping()
    {
        var analyzer = new SpeechAnalyzer(Rate);
        var chunk = new short[Chunk];
        chunk[10] = 32600;
        chunk[11] = -32700;
        chunk[12] = 30000;
        var frames = new LiveFrame[1];

        analyzer.Append(chunk, frames).ShouldBe(1);

        frames[0].ClippedSamples.ShouldBe(2);
    }

    [Fact]
    public void ChunkSizeDoesNotChangeTheReport()
    {
        var pcm = ToPcm16(Signals.Mix(corpus.Speech(AudioCorpus.Voices[3]), corpus.Noise("brown"), 10, 0.5, Rate));
        var whole = new SpeechAnalyzer(Rate);
        whole.Append(pcm);
        var expected = whole.Complete();

        var chunked = new SpeechAnalyzer(Rate);
        var random = new Random(5);
        for (int offset = 0; offset < pcm.Length;)
        {
            int n = Math.Min(pcm.Length - offset, random.Next(1, 700));
            chunked.Append(pcm.AsSpan(offset, n));
            offset += n;
        }

        var actual = chunked.Complete();
        actual.SampleCount.ShouldBe(expected.SampleCount);
        actual.RmsDbfs.ShouldBe(expected.RmsDbfs, 1e-6);
        actual.DcOffset.ShouldBe(expected.DcOffset, 1e-9);
        actual.SpeechRatio.ShouldBe(expected.SpeechRatio);
        actual.SnrDb.ShouldBe(expected.SnrDb, 1e-3);
        actual.WadaSnrDb.ShouldBe(expected.WadaSnrDb, 1e-3);
    }

    [Fact]
    public void ResetMakesTheAnalyzerReadyForTheNextTake()
    {
        var speech = Signals.Mix(corpus.Speech(AudioCorpus.Voices[1]), corpus.Noise("pink"), 20, 0.5, Rate);
        var analyzer = new SpeechAnalyzer(Rate);
        analyzer.Append(new float[Rate * 3]);
        analyzer.Complete();
        analyzer.Reset();
        analyzer.Append(speech);
        var reused = analyzer.Complete();

        var fresh = new SpeechAnalyzer(Rate);
        fresh.Append(speech);

        reused.ShouldBe(fresh.Complete());
    }

    [Fact]
    public void FloatAndPcm16InputGiveTheSameReport()
    {
        var pcm = ToPcm16(corpus.Speech(AudioCorpus.Voices[0]));
        var floats = pcm.Select(s => s / 32768f).ToArray();
        var a = new SpeechAnalyzer(Rate);
        a.Append(pcm);
        var b = new SpeechAnalyzer(Rate);
        b.Append(floats);

        a.Complete().ShouldBe(b.Complete());
    }

    [Fact]
    public void TooSmallALiveFrameBufferIsRejectedBeforeAnythingIsConsumed()
    {
        var analyzer = new SpeechAnalyzer(Rate);
        var frames = new LiveFrame[1];

        Should.Throw<ArgumentException>(() => analyzer.Append(new short[Chunk * 3], frames));
        analyzer.Complete().SampleCount.ShouldBe(0);
    }

    [Fact]
    public void LongTakesKeepWorkingPastTheInitialHistory()
    {
        var analyzer = new SpeechAnalyzer(8000);
        var speech = corpus.Speech(AudioCorpus.Voices[0]);
        for (int i = 0; i < 8; i++)
        {
            analyzer.Append(speech);
        }

        var report = analyzer.Complete();
        report.DurationSeconds.ShouldBeGreaterThan(40);
        report.SpeechRatio.ShouldBeGreaterThan(0.3);
    }

    private static int FeedInChunks(SpeechAnalyzer analyzer, short[] pcm, LiveFrame[] frames)
    {
        int chunks = 0;
        for (int offset = 0; offset + Chunk <= pcm.Length; offset += Chunk)
        {
            analyzer.Append(pcm.AsSpan(offset, Chunk), frames);
            chunks++;
        }

        return chunks;
    }

    private static short[] ToPcm16(float[] samples) => [.. samples.Select(Crowd.Audio.Wav.WavWriter.ToPcm16)];
}
