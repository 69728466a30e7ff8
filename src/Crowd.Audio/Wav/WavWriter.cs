using System.Buffers.Binary;

namespace Crowd.Audio.Wav;

public static class WavWriter
{
    private const int HeaderLength = 44;

    public static byte[] Pcm16Mono(ReadOnlySpan<short> samples, int sampleRate)
    {
        var file = new byte[HeaderLength + (samples.Length * 2)];
        var span = file.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], (uint)(file.Length - 8));
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(span[20..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(span[22..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(span[24..], (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(span[28..], (uint)(sampleRate * 2));
        BinaryPrimitives.WriteUInt16LittleEndian(span[32..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(span[34..], 16);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[40..], (uint)(samples.Length * 2));
        var body = span[HeaderLength..];
        for (int i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(body[(i * 2)..], samples[i]);
        }

        return file;
    }

    /// <summary>Rounds full-scale floats to PCM16, saturating at the rails the way a converter clips.</summary>
    public static byte[] Pcm16Mono(ReadOnlySpan<float> samples, int sampleRate)
    {
        var pcm = new short[samples.Length];
        for (int i = 0; i < samples.Length; i++)
        {
            pcm[i] = ToPcm16(samples[i]);
        }

        return Pcm16Mono(pcm, sampleRate);
    }

    public static short ToPcm16(float sample) => (short)Math.Clamp(MathF.Round(sample * 32768f), short.MinValue, short.MaxValue);
}
