using System.Buffers;
using System.Text;
using MessagePack;
using MessagePack.Formatters;

namespace Crowd.Server.Features.Recording.Streaming;

/// <summary>
/// Reads an <see cref="AudioChunk"/> from MessagePack with its PCM in an array from <see cref="ChunkBuffers"/>, which the
/// hub gives back once the session has taken the audio. The shape is the one clients send: a map of
/// <c>Seq</c>, <c>Pcm</c> (bin) and <c>SampleRate</c>, names in any case, other keys skipped.
/// </summary>
public sealed class AudioChunkFormatter : IMessagePackFormatter<AudioChunk?>
{
    public static readonly AudioChunkFormatter Instance = new();

    public void Serialize(ref MessagePackWriter writer, AudioChunk? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }
        writer.WriteMapHeader(3);
        writer.Write(nameof(AudioChunk.Seq));
        writer.Write(value.Seq);
        writer.Write(nameof(AudioChunk.Pcm));
        writer.Write(value.Pcm);
        writer.Write(nameof(AudioChunk.SampleRate));
        writer.Write(value.SampleRate);
    }

    public AudioChunk? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }
        if (reader.NextMessagePackType != MessagePackType.Map)
        {
            throw new MessagePackSerializationException("An audio chunk is a map of Seq, Pcm and SampleRate.");
        }
        var (seq, sampleRate) = (0, 0);
        byte[]? pcm = null;
        for (var keys = reader.ReadMapHeader(); keys > 0; keys--)
        {
            var key = Key(ref reader);
            if (Ascii.EqualsIgnoreCase(key, "Seq"u8))
            {
                seq = reader.ReadInt32();
            }
            else if (Ascii.EqualsIgnoreCase(key, "SampleRate"u8))
            {
                sampleRate = reader.ReadInt32();
            }
            else if (Ascii.EqualsIgnoreCase(key, "Pcm"u8))
            {
                ChunkBuffers.Shared.Return(pcm); // the key twice: the last one counts
                pcm = reader.ReadBytes() is { } bytes ? Copy(bytes) : null;
            }
            else
            {
                reader.Skip();
            }
        }
        return new AudioChunk(seq, pcm, sampleRate);
    }

    private static byte[] Copy(ReadOnlySequence<byte> bytes)
    {
        var pcm = ChunkBuffers.Shared.Rent(checked((int)bytes.Length));
        bytes.CopyTo(pcm);
        return pcm;
    }

    /// <summary>The key's UTF-8 bytes, without making a string of them for every chunk.</summary>
    private static ReadOnlySpan<byte> Key(ref MessagePackReader reader) =>
        reader.ReadStringSequence() is { } key ? key.IsSingleSegment ? key.FirstSpan : key.ToArray() : default;
}
