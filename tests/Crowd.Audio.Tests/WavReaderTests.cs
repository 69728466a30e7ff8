using System.Buffers.Binary;
using Crowd.Audio.Analysis;
using Crowd.Audio.Tests.Corpus;
using Crowd.Audio.Wav;

namespace Crowd.Audio.Tests;

public sealed class WavReaderTests
{
    private const ushort Pcm = 1;
    private const ushort IeeeFloat = 3;

    [Theory]
    [InlineData(8000, 1, 16, Pcm, false)]
    [InlineData(16000, 2, 16, Pcm, false)]
    [InlineData(44100, 1, 24, Pcm, false)]
    [InlineData(48000, 2, 24, Pcm, true)]
    [InlineData(22050, 1, 32, IeeeFloat, false)]
    [InlineData(48000, 2, 32, IeeeFloat, true)]
    public void SupportedFormatsDecodeToTheSamplesThatWereWritten(int rate, int channels, int bits, ushort tag, bool extensible)
    {
        var interleaved = TestWav.Tone(rate / 10, channels, rate, 1);
        var file = TestWav.Build(rate, channels, bits, tag, interleaved, extensible, extraChunkBytes: 7);

        var info = WavReader.ReadHeader(file);
        var mono = new float[info.FrameCount];
        WavReader.DecodeMono(file.AsSpan(info.DataOffset, info.DataLength), info.Format, mono);

        info.Format.ShouldBe(new WavFormat(rate, channels, bits switch { 16 => WavSampleEncoding.Pcm16, 24 => WavSampleEncoding.Pcm24, _ => WavSampleEncoding.IeeeFloat }));
        info.FrameCount.ShouldBe(rate / 10);
        double tolerance = bits == 16 ? 1.0 / 32768 : 1.0 / 8388608;
        for (int i = 0; i < mono.Length; i++)
        {
            double expected = Enumerable.Range(0, channels).Average(c => interleaved[(i * channels) + c]);
            ((double)mono[i]).ShouldBe(expected, tolerance);
        }
    }

    [Fact]
    public void WrittenPcm16MonoReadsBackExactly()
    {
        short[] samples = [0, 1, -1, 32767, -32768, 1234];

        var file = WavWriter.Pcm16Mono(samples, 16000);
        var info = WavReader.ReadHeader(file);
        var decoded = new float[info.FrameCount];
        WavReader.DecodeMono(file.AsSpan(info.DataOffset, info.DataLength), info.Format, decoded);

        info.Format.ShouldBe(new WavFormat(16000, 1, WavSampleEncoding.Pcm16));
        decoded.Select(WavWriter.ToPcm16).ShouldBe(samples);
    }

    public static TheoryData<string, WavError> Malformed() => new()
    {
        { "truncated-header", WavError.Truncated },
        { "not-riff", WavError.NotRiffWave },
        { "riff-size-past-end", WavError.Truncated },
        { "data-size-past-end", WavError.ChunkPastEnd },
        { "data-size-near-4g", WavError.ChunkPastEnd },
        { "fmt-size-near-4g", WavError.ChunkPastEnd },
        { "zero-channels", WavError.ZeroChannels },
        { "six-channels", WavError.UnsupportedChannelCount },
        { "unknown-tag", WavError.UnsupportedFormatTag },
        { "odd-block-align", WavError.BadBlockAlign },
        { "8-bit", WavError.UnsupportedBitDepth },
        { "96-khz", WavError.UnsupportedSampleRate },
        { "short-fmt", WavError.BadFormatChunk },
        { "no-data", WavError.MissingDataChunk },
        { "data-before-fmt", WavError.MissingFormatChunk },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedFilesGiveATypedErrorThatSaysWhatIsWrong(string name, WavError expected)
    {
        var file = Corrupt(name);

        var error = Should.Throw<WavFormatException>(() => SpeechAnalyzer.AnalyzeWav(file));

        error.Error.ShouldBe(expected);
        error.Message.Length.ShouldBeGreaterThan(15);
    }

    [Fact]
    public void HeaderClaimingFourGigabytesAllocatesNoMoreThanTheFile()
    {
        var file = Corrupt("data-size-near-4g");
        Should.Throw<WavFormatException>(() => WavReader.ReadHeader(file));

        long before = GC.GetAllocatedBytesForCurrentThread();
        Should.Throw<WavFormatException>(() => WavReader.ReadHeader(file));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.ShouldBeLessThan(16 * 1024);
    }

    [Fact]
    public void ATrailingPartialFrameIsDropped()
    {
        var file = TestWav.Build(16000, 2, 16, Pcm, TestWav.Tone(100, 2, 16000, 2));
        var cut = file[..^1];
        BinaryPrimitives.WriteUInt32LittleEndian(cut.AsSpan(4), (uint)(cut.Length - 8));
        BinaryPrimitives.WriteUInt32LittleEndian(cut.AsSpan(40), 399);

        WavReader.ReadHeader(cut).FrameCount.ShouldBe(99);
    }

    private static byte[] Corrupt(string name)
    {
        var file = TestWav.Build(16000, 1, 16, Pcm, TestWav.Tone(1600, 1, 16000, 3));
        var span = file.AsSpan();
        switch (name)
        {
            case "truncated-header": return file[..10];
            case "not-riff": "RIFX"u8.CopyTo(span); break;
            case "riff-size-past-end": return file[..^100];
            case "data-size-past-end": BinaryPrimitives.WriteUInt32LittleEndian(span[40..], (uint)file.Length); break;
            case "data-size-near-4g": BinaryPrimitives.WriteUInt32LittleEndian(span[40..], 0xFFFFFFF0); break;
            case "fmt-size-near-4g": BinaryPrimitives.WriteUInt32LittleEndian(span[16..], 0xFFFFFFFF); break;
            case "zero-channels": BinaryPrimitives.WriteUInt16LittleEndian(span[22..], 0); break;
            case "six-channels": BinaryPrimitives.WriteUInt16LittleEndian(span[22..], 6); break;
            case "unknown-tag": BinaryPrimitives.WriteUInt16LittleEndian(span[20..], 0x55); break;
            case "odd-block-align": BinaryPrimitives.WriteUInt16LittleEndian(span[32..], 3); break;
            case "8-bit": BinaryPrimitives.WriteUInt16LittleEndian(span[34..], 8); break;
            case "96-khz": BinaryPrimitives.WriteUInt32LittleEndian(span[24..], 96000); break;
            case "short-fmt": BinaryPrimitives.WriteUInt32LittleEndian(span[16..], 12); break;
            case "no-data": "junk"u8.CopyTo(span[36..]); break;
            case "data-before-fmt": "junk"u8.CopyTo(span[12..]); break;
        }

        return file;
    }
}
