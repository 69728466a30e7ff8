using System.Buffers.Binary;

namespace Crowd.Audio.Tests.Corpus;

/// <summary>Hand-built WAV files, for the header shapes our writer does not produce.</summary>
internal static class TestWav
{
    public static byte[] Build(int sampleRate, int channels, int bits, ushort tag, ReadOnlySpan<float> interleaved, bool extensible = false, int extraChunkBytes = 0)
    {
        int width = bits / 8;
        int fmtSize = extensible ? 40 : 16;
        int dataSize = interleaved.Length * width;
        int extra = extraChunkBytes > 0 ? 8 + extraChunkBytes + (extraChunkBytes & 1) : 0;
        var file = new byte[12 + 8 + fmtSize + extra + 8 + dataSize];
        var span = file.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], (uint)(file.Length - 8));
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], (uint)fmtSize);
        BinaryPrimitives.WriteUInt16LittleEndian(span[20..], extensible ? (ushort)0xFFFE : tag);
        BinaryPrimitives.WriteUInt16LittleEndian(span[22..], (ushort)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(span[24..], (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(span[28..], (uint)(sampleRate * channels * width));
        BinaryPrimitives.WriteUInt16LittleEndian(span[32..], (ushort)(channels * width));
        BinaryPrimitives.WriteUInt16LittleEndian(span[34..], (ushort)bits);
        if (extensible)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span[36..], 22);
            BinaryPrimitives.WriteUInt16LittleEndian(span[38..], (ushort)bits);
            BinaryPrimitives.WriteUInt16LittleEndian(span[44..], tag);
            ReadOnlySpan<byte> tail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];
            tail.CopyTo(span[46..]);
        }

        int offset = 20 + fmtSize;
        if (extra > 0)
        {
            "LIST"u8.CopyTo(span[offset..]);
            BinaryPrimitives.WriteUInt32LittleEndian(span[(offset + 4)..], (uint)extraChunkBytes);
            offset += extra;
        }

        "data"u8.CopyTo(span[offset..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(offset + 4)..], (uint)dataSize);
        var body = span[(offset + 8)..];
        for (int i = 0; i < interleaved.Length; i++)
        {
            var slot = body.Slice(i * width, width);
            switch (bits)
            {
                case 16:
                    BinaryPrimitives.WriteInt16LittleEndian(slot, (short)Math.Clamp(Math.Round(interleaved[i] * 32768.0), short.MinValue, short.MaxValue));
                    break;
                case 24:
                    int v = (int)Math.Clamp(Math.Round(interleaved[i] * 8388608.0), -8388608, 8388607);
                    slot[0] = (byte)v;
                    slot[1] = (byte)(v >> 8);
                    slot[2] = (byte)(v >> 16);
                    break;
                default:
                    BinaryPrimitives.WriteSingleLittleEndian(slot, interleaved[i]);
                    break;
            }
        }

        return file;
    }

    public static float[] Tone(int frames, int channels, int sampleRate, int seed)
    {
        var random = new Random(seed);
        var samples = new float[frames * channels];
        for (int i = 0; i < frames; i++)
        {
            for (int c = 0; c < channels; c++)
            {
                samples[(i * channels) + c] = (float)((0.4 * Math.Sin(2 * Math.PI * (220 + (110 * c)) * i / sampleRate)) + (0.05 * (random.NextDouble() - 0.5)));
            }
        }

        return samples;
    }
}
