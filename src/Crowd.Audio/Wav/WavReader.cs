using System.Buffers.Binary;

namespace Crowd.Audio.Wav;

/// <summary>
/// Parses RIFF/WAVE headers without trusting any size field: every offset is checked against the
/// bytes actually present, so a hostile header can neither read past the end nor make us allocate.
/// </summary>
public static class WavReader
{
    public const int MinSampleRate = 8000;
    public const int MaxSampleRate = 48000;

    private const ushort FormatPcm = 1;
    private const ushort FormatFloat = 3;
    private const ushort FormatExtensible = 0xFFFE;

    // The GUID tail shared by every KSDATAFORMAT_SUBTYPE_* (the first two bytes carry the format tag).
    private static ReadOnlySpan<byte> SubFormatTail =>
        [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];

    public static WavInfo ReadHeader(ReadOnlySpan<byte> file)
    {
        if (file.Length < 12)
        {
            throw new WavFormatException(WavError.Truncated, $"The file is {file.Length} bytes long, shorter than a RIFF header.");
        }

        if (!file[..4].SequenceEqual("RIFF"u8) || !file.Slice(8, 4).SequenceEqual("WAVE"u8))
        {
            throw new WavFormatException(WavError.NotRiffWave, "The file does not start with a RIFF/WAVE header.");
        }

        long riffEnd = 8L + BinaryPrimitives.ReadUInt32LittleEndian(file[4..]);
        if (riffEnd > file.Length)
        {
            throw new WavFormatException(WavError.Truncated, $"The RIFF header promises {riffEnd} bytes but the file has {file.Length}.");
        }

        WavFormat? format = null;
        long offset = 12;
        while (offset < riffEnd)
        {
            if (offset + 8 > riffEnd)
            {
                throw new WavFormatException(WavError.Truncated, $"A chunk header at byte {offset} is cut off.");
            }

            var header = file.Slice((int)offset, 8);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            long bodyStart = offset + 8;
            if (bodyStart + size > riffEnd)
            {
                throw new WavFormatException(WavError.ChunkPastEnd, $"The chunk at byte {offset} claims {size} bytes, past the end of the file.");
            }

            var body = file.Slice((int)bodyStart, (int)size);
            if (header[..4].SequenceEqual("fmt "u8))
            {
                format ??= ParseFormat(body);
            }
            else if (header[..4].SequenceEqual("data"u8))
            {
                if (format is not { } known)
                {
                    throw new WavFormatException(WavError.MissingFormatChunk, "The data chunk comes before any fmt chunk.");
                }

                // A trailing partial frame is dropped rather than rejected: recorders cut off mid-frame.
                int whole = (int)(size - (size % known.BlockAlign));
                return new WavInfo(known, (int)bodyStart, whole);
            }

            offset = bodyStart + size + (size & 1);
        }

        throw format is null
            ? new WavFormatException(WavError.MissingFormatChunk, "The file has no fmt chunk.")
            : new WavFormatException(WavError.MissingDataChunk, "The file has no data chunk.");
    }

    /// <summary>Decodes whole frames from <paramref name="data"/>, averaging channels, into full-scale floats.</summary>
    /// <returns>How many frames were written: the smaller of the frames in <paramref name="data"/> and the room in <paramref name="destination"/>.</returns>
    public static int DecodeMono(ReadOnlySpan<byte> data, WavFormat format, Span<float> destination)
    {
        int frames = Math.Min(data.Length / format.BlockAlign, destination.Length);
        int width = format.BytesPerSample;
        int channels = format.Channels;
        float channelScale = 1f / channels;
        for (int i = 0; i < frames; i++)
        {
            var frame = data.Slice(i * format.BlockAlign, format.BlockAlign);
            float sum = 0;
            for (int c = 0; c < channels; c++)
            {
                sum += DecodeSample(frame.Slice(c * width, width), format.Encoding);
            }

            destination[i] = channels == 1 ? sum : sum * channelScale;
        }

        return frames;
    }

    private static float DecodeSample(ReadOnlySpan<byte> bytes, WavSampleEncoding encoding) => encoding switch
    {
        WavSampleEncoding.Pcm16 => BinaryPrimitives.ReadInt16LittleEndian(bytes) * (1f / 32768f),
        WavSampleEncoding.Pcm24 => (((bytes[2] << 24) | (bytes[1] << 16) | (bytes[0] << 8)) >> 8) * (1f / 8388608f),
        _ => Saturate(BinaryPrimitives.ReadSingleLittleEndian(bytes)),
    };

    // Float files can hold overs, infinities and NaNs; like sox, treat them as a converter would: saturate.
    private static float Saturate(float sample) => float.IsNaN(sample) ? 0 : Math.Clamp(sample, -1f, 1f);

    private static WavFormat ParseFormat(ReadOnlySpan<byte> fmt)
    {
        if (fmt.Length < 16)
        {
            throw new WavFormatException(WavError.BadFormatChunk, $"The fmt chunk is {fmt.Length} bytes, fewer than the 16 it needs.");
        }

        ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
        ushort channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
        uint sampleRate = BinaryPrimitives.ReadUInt32LittleEndian(fmt[4..]);
        ushort blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(fmt[12..]);
        ushort bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);

        if (tag == FormatExtensible)
        {
            if (fmt.Length < 40 || !fmt.Slice(26, 14).SequenceEqual(SubFormatTail))
            {
                throw new WavFormatException(WavError.BadFormatChunk, "The WAVE_FORMAT_EXTENSIBLE fmt chunk has no valid sub-format.");
            }

            tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt[24..]);
        }

        if (channels == 0)
        {
            throw new WavFormatException(WavError.ZeroChannels, "The file declares zero channels.");
        }

        if (channels > 2)
        {
            throw new WavFormatException(WavError.UnsupportedChannelCount, $"The file has {channels} channels; only mono and stereo are supported.");
        }

        if (sampleRate is < MinSampleRate or > MaxSampleRate)
        {
            throw new WavFormatException(WavError.UnsupportedSampleRate, $"The sample rate {sampleRate} Hz is outside {MinSampleRate}–{MaxSampleRate} Hz.");
        }

        var encoding = (tag, bits) switch
        {
            (FormatPcm, 16) => WavSampleEncoding.Pcm16,
            (FormatPcm, 24) => WavSampleEncoding.Pcm24,
            (FormatFloat, 32) => WavSampleEncoding.IeeeFloat,
            (FormatPcm or FormatFloat, _) => throw new WavFormatException(WavError.UnsupportedBitDepth, $"{bits}-bit {(tag == FormatPcm ? "PCM" : "float")} is not supported; use 16- or 24-bit PCM or 32-bit float."),
            _ => throw new WavFormatException(WavError.UnsupportedFormatTag, $"The format tag 0x{tag:X4} is not PCM or IEEE float."),
        };

        var format = new WavFormat((int)sampleRate, channels, encoding);
        if (blockAlign != format.BlockAlign)
        {
            throw new WavFormatException(WavError.BadBlockAlign, $"The block alignment is {blockAlign}; {channels} channel(s) of {bits}-bit samples need {format.BlockAlign}.");
        }

        return format;
    }
}
