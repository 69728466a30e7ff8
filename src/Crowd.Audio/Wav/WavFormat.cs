namespace Crowd.Audio.Wav;

public enum WavSampleEncoding
{
    Pcm16,
    Pcm24,
    IeeeFloat,
}

public readonly record struct WavFormat(int SampleRate, int Channels, WavSampleEncoding Encoding)
{
    public int BytesPerSample => Encoding switch
    {
        WavSampleEncoding.Pcm16 => 2,
        WavSampleEncoding.Pcm24 => 3,
        _ => 4,
    };

    public int BlockAlign => BytesPerSample * Channels;
}

/// <summary>Where the samples of a parsed WAV file are: <c>file.Slice(DataOffset, DataLength)</c>.</summary>
public readonly record struct WavInfo(WavFormat Format, int DataOffset, int DataLength)
{
    public int FrameCount => DataLength / Format.BlockAlign;

    public double DurationSeconds => (double)FrameCount / Format.SampleRate;
}
