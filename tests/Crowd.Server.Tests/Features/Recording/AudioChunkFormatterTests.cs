using System.Buffers;
using Crowd.Server.Features.Recording.Streaming;
using MessagePack;
using MessagePack.Resolvers;

namespace Crowd.Server.Tests.Features.Recording;

/// <summary>How the hub reads a chunk from MessagePack: into a reused array, from the shape every client sends.</summary>
public sealed class AudioChunkFormatterTests
{
    private static readonly byte[] Pcm = Enumerable.Range(0, ChunkBuffers.ChunkBytes).Select(i => (byte)(i * 7)).ToArray();

    [Fact]
    public void AChunkAsTheDotNetClientSendsItIsReadWithEveryByteOfItsAudio()
    {
        var bytes = MessagePackSerializer.Serialize(new AudioChunk(12, Pcm, 16_000), ContractlessStandardResolver.Options);

        var chunk = Read(bytes);

        chunk.ShouldNotBeNull();
        chunk.Seq.ShouldBe(12);
        chunk.SampleRate.ShouldBe(16_000);
        chunk.Pcm.ShouldBe(Pcm);
    }

    [Fact]
    public void KeysAreReadInAnyCaseAndUnknownKeysAreSkipped()
    {
        var chunk = Read(Written((ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(4);
            w.Write("seq");
            w.Write(3);
            w.Write("note");
            w.WriteArrayHeader(2);
            w.Write("from a newer client");
            w.Write(1.5);
            w.Write("PCM");
            w.Write(Pcm.AsSpan(0, 320));
            w.Write("sampleRate");
            w.Write(16_000);
        }));

        chunk.ShouldBe(chunk! with { Seq = 3, SampleRate = 16_000 });
        chunk.Pcm.ShouldBe(Pcm[..320]);
    }

    [Fact]
    public void ANilPcmIsAChunkWithoutAudio()
    {
        var chunk = Read(Written((ref MessagePackWriter w) =>
        {
            w.WriteMapHeader(2);
            w.Write("Pcm");
            w.WriteNil();
            w.Write("Seq");
            w.Write(1);
        }));

        chunk!.Pcm.ShouldBeNull();
        chunk.Seq.ShouldBe(1, "the key after a nil is still read");
    }

    [Theory]
    [InlineData("an array instead of a map")]
    [InlineData("a seq that is text")]
    [InlineData("pcm that is a number")]
    public void AnItemThatIsNotAChunkCannotBeRead(string kind)
    {
        var bytes = Written((ref MessagePackWriter w) =>
        {
            switch (kind)
            {
                case "an array instead of a map":
                    w.WriteArrayHeader(3);
                    w.Write(0);
                    w.Write(Pcm);
                    w.Write(16_000);
                    break;
                case "a seq that is text":
                    w.WriteMapHeader(1);
                    w.Write("Seq");
                    w.Write("zero");
                    break;
                default:
                    w.WriteMapHeader(1);
                    w.Write("Pcm");
                    w.Write(1234);
                    break;
            }
        });

        Should.Throw<MessagePackSerializationException>(() => Read(bytes));
    }

    private static AudioChunk? Read(byte[] bytes)
    {
        var reader = new MessagePackReader(bytes);
        return AudioChunkFormatter.Instance.Deserialize(ref reader, MessagePackSerializerOptions.Standard);
    }

    private delegate void Writing(ref MessagePackWriter writer);

    private static byte[] Written(Writing write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
