using Crowd.Server.Features.Recording;
using Crowd.Server.Features.Recording.Streaming;

namespace Crowd.Server.Tests.Features.Recording;

public sealed class ReusedArraysTests
{
    [Fact]
    public void AChunksArrayGivenBackIsHandedOutAgainAndOtherLengthsAreNotKept()
    {
        var buffers = new ReusedArrays<byte>(ChunkBuffers.ChunkBytes, ChunkBuffers.MaxKept);
        var chunk = buffers.Rent(ChunkBuffers.ChunkBytes);
        var odd = buffers.Rent(1000);

        buffers.Return(chunk);
        buffers.Return(odd);

        buffers.Rent(ChunkBuffers.ChunkBytes).ShouldBeSameAs(chunk);
        buffers.Rent(ChunkBuffers.ChunkBytes).ShouldNotBeSameAs(chunk, "it was handed out once");
        buffers.Rent(1000).ShouldNotBeSameAs(odd);
        odd.Length.ShouldBe(1000);
    }

    [Fact]
    public void EveryArrayGivenBackIsKeptUpToTheBoundHoweverManyWereOutAtOnce()
    {
        var arrays = new ReusedArrays<short>(16, maxKept: 10_000);
        var out1 = Enumerable.Range(0, 10_000).Select(_ => arrays.Rent(16)).ToList();
        out1.ForEach(arrays.Return);

        var out2 = Enumerable.Range(0, 10_001).Select(_ => arrays.Rent(16)).ToList();

        out2.Take(10_000).ShouldBe(out1, "handed out again, in the order given back");
        out1.ShouldNotContain(out2[^1]);
    }
}
