namespace Crowd.Audio.Wav;

public enum WavError
{
    NotRiffWave,
    Truncated,
    ChunkPastEnd,
    MissingFormatChunk,
    MissingDataChunk,
    BadFormatChunk,
    UnsupportedFormatTag,
    ZeroChannels,
    UnsupportedChannelCount,
    UnsupportedSampleRate,
    UnsupportedBitDepth,
    BadBlockAlign,
}

/// <summary>The only exception the WAV reader throws for bad input; <see cref="Error"/> says which rule failed.</summary>
public sealed class WavFormatException : Exception
{
    public WavFormatException(WavError error, string message)
        : base(message)
    {
        Error = error;
    }

    public WavError Error { get; }
}
