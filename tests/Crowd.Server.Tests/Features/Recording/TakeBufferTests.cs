using Crowd.Server.Features.Recording.Sessions;

namespace Crowd.Server.Tests.Features.Recording;

public sealed class TakeBufferTests
{
    private static short[] Ramp(int start, int count) => Enumerable.Range(start, count).Select(i => (short)(i % 30_000)).ToArray();

    [Fact]
    public void ChunksThatCrossSegmentBoundariesComeBackInOrderAndWhole()
    {
        var buffer = new TakeBuffer();
        var written = 0;
        foreach (var size in new[] { 1_600, 16_000, 3, 40_000, 1_600 })
        {
            buffer.Append(Ramp(written, size));
            written += size;
        }

        buffer.Length.ShouldBe(written);
        buffer.ToArray().ShouldBe(Ramp(0, written));
    }

    [Fact]
    public void AReleasedBufferStartsTheNextTakeEmpty()
    {
        var buffer = new TakeBuffer();
        buffer.Append(Ramp(0, 20_000));

        buffer.Release();
        buffer.Append(Ramp(7, 10));

        buffer.Length.ShouldBe(10);
        buffer.ToArray().ShouldBe(Ramp(7, 10));
    }
}
