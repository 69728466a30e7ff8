using System.Buffers.Binary;
using System.Diagnostics;
using Crowd.Audio.Analysis;
using Crowd.Audio.Tests.Corpus;
using Crowd.Audio.Wav;
using Xunit.Abstractions;

namespace Crowd.Audio.Tests;

public sealed class WavFuzzTests(ITestOutputHelper output)
{
    private const int Cases = 100_000;

    // About "no hang", not speed: a case takes microseconds; a machine under load may stall for a while.
    private static readonly TimeSpan s_perCaseBound = TimeSpan.FromSeconds(2);

    // The exception object and its message; independent of any size a header claims.
    private const long AllocationBound = 16 * 1024;

    [Fact]
    public void HundredThousandMutatedFilesGiveOnlyTheTypedErrorOrAValidReport()
    {
        byte[][] seeds =
        [
            TestWav.Build(16000, 1, 16, 1, TestWav.Tone(3200, 1, 16000, 1)),
            TestWav.Build(8000, 2, 16, 1, TestWav.Tone(2400, 2, 8000, 2), extraChunkBytes: 5),
            TestWav.Build(48000, 1, 24, 1, TestWav.Tone(4800, 1, 48000, 3)),
            TestWav.Build(44100, 2, 32, 3, TestWav.Tone(4410, 2, 44100, 4), extensible: true),
            TestWav.Build(22050, 1, 32, 3, TestWav.Tone(2205, 1, 22050, 5)),
        ];
        var analyzers = new Dictionary<int, SpeechAnalyzer>();

        // One-time costs (the WADA table, JIT) are not per-file allocation.
        foreach (var seed in seeds)
        {
            SpeechAnalyzer.AnalyzeWav(seed);
        }

        var random = new Random(20261121);
        var errors = new Dictionary<WavError, int>();
        int valid = 0;
        var slowest = TimeSpan.Zero;
        long mostAllocated = 0;
        var clock = new Stopwatch();

        for (int i = 0; i < Cases; i++)
        {
            var file = Mutate(seeds[i % seeds.Length], random);
            clock.Restart();
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var info = WavReader.ReadHeader(file);
                long allocatedReading = GC.GetAllocatedBytesForCurrentThread() - before;
                if (!analyzers.TryGetValue(info.Format.SampleRate, out var analyzer))
                {
                    analyzer = new SpeechAnalyzer(info.Format.SampleRate);
                    analyzers[info.Format.SampleRate] = analyzer;
                }

                analyzer.Reset();
                before = GC.GetAllocatedBytesForCurrentThread() - allocatedReading;
                analyzer.AppendWav(file.AsSpan(info.DataOffset, info.DataLength), info.Format);
                var report = analyzer.Complete();
                report.SampleCount.ShouldBe(info.FrameCount);
                double.IsFinite(report.RmsDbfs).ShouldBeTrue();
                double.IsFinite(report.SnrDb).ShouldBeTrue();
                valid++;
            }
            catch (WavFormatException e)
            {
                errors[e.Error] = errors.GetValueOrDefault(e.Error) + 1;
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            mostAllocated = Math.Max(mostAllocated, allocated);
            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
            allocated.ShouldBeLessThan(AllocationBound + file.Length, $"case {i}");
            clock.Elapsed.ShouldBeLessThan(s_perCaseBound, $"case {i}");
        }

        output.WriteLine($"{valid} valid, errors: {string.Join(", ", errors.OrderBy(e => e.Key).Select(e => $"{e.Key} {e.Value}"))}; slowest case {slowest.TotalMilliseconds:0.0} ms; most allocated {mostAllocated} B");
        valid.ShouldBeGreaterThan(Cases / 20);
        errors.Count.ShouldBeGreaterThan(6);
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var file = (byte[])seed.Clone();
        switch (random.Next(5))
        {
            case 0:
                for (int flips = random.Next(1, 9); flips > 0; flips--)
                {
                    int at = random.Next(2) == 0 ? random.Next(Math.Min(64, file.Length)) : random.Next(file.Length);
                    file[at] ^= (byte)(1 << random.Next(8));
                }

                return file;
            case 1:
                return file[..random.Next(file.Length)];
            case 2:
                int[] sizeFields = [4, 16, 40, file.Length - 8 >= 0 ? SizeFieldOfLastChunk(file) : 40];
                BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(sizeFields[random.Next(sizeFields.Length)]), InterestingSize(random, file.Length));
                return file;
            case 3:
                int field = random.Next(20, 36) & ~1;
                BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(field), (ushort)(random.Next(3) switch { 0 => 0, 1 => random.Next(65536), _ => 0xFFFF }));
                return file;
            default:
                BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(random.Next(file.Length - 3)), InterestingSize(random, file.Length));
                return random.Next(2) == 0 ? file : file[..random.Next(file.Length)];
        }
    }

    private static int SizeFieldOfLastChunk(byte[] file) => file.AsSpan().LastIndexOf("data"u8) + 4;

    private static uint InterestingSize(Random random, int length) => random.Next(7) switch
    {
        0 => 0,
        1 => uint.MaxValue,
        2 => uint.MaxValue - (uint)random.Next(64),
        3 => 0x80000000u + (uint)random.Next(16),
        4 => (uint)Math.Max(0, length + random.Next(-16, 16)),
        5 => (uint)random.Next(),
        _ => (uint)random.Next(64),
    };
}
