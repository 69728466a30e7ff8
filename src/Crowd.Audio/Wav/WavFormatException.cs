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

    public WavFormatException()
        : this(WavError.NotRiffWave, "Not a WAV file.")
    {
    }

    public WavFormatException(string message)
        : this(WavError.NotRiffWave, message)
    {
    }

    public WavFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Error = WavError.NotRiffWave;
    }

    public WavError Error { get; }
}
