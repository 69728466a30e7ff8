using Crowd.Audio.Analysis;

namespace Crowd.Server.Features.Recording.Streaming;

/// <summary>
/// Turns live frames into the hints the recorder shows while someone speaks. Codes are the quality gate's
/// (<c>too_quiet</c>, <c>clipping</c>, <c>too_noisy</c>, <c>no_speech</c>), so a hint seen live is the reason a take
/// would fail. A hint stays up for a second after its cause, so it does not flicker.
/// </summary>
public sealed class LiveHints
{
    /// <summary>Speech quieter than this (RMS of a 100 ms frame) asks the speaker to come closer.</summary>
    public const float QuietSpeechDbfs = -40f;

    /// <summary>Background noise above this leaves less than ~15 dB to normal speech levels (−26 to −20 dBFS).</summary>
    public const float NoisyFloorDbfs = -42f;

    /// <summary>Near-full-scale samples in a frame that count as clipping (0.5 % of 100 ms at 16 kHz).</summary>
    public const int ClippedSamplesPerFrame = 8;

    public const int NoSpeechFrames = 20;
    private const int HoldFrames = 10;
    private const int SettleFrames = 5;

    public const string TooQuiet = "too_quiet";
    public const string Clipping = "clipping";
    public const string TooNoisy = "too_noisy";
    public const string NoSpeech = "no_speech";

    private static readonly string[][] s_combinations = BuildCombinations();

    private int _frames;
    private int _sinceSpeech;
    private int _quietHold;
    private int _clipHold;
    private int _noisyHold;

    public void Reset()
    {
        _frames = 0;
        _sinceSpeech = 0;
        _quietHold = 0;
        _clipHold = 0;
        _noisyHold = 0;
    }

    /// <summary>The hints to show after this frame; the arrays are shared and must not be changed.</summary>
    public string[] Next(in LiveFrame frame)
    {
        _frames++;
        _sinceSpeech = frame.Speech ? 0 : _sinceSpeech + 1;
        _quietHold = frame.Speech && frame.RmsDbfs < QuietSpeechDbfs ? HoldFrames : Math.Max(0, _quietHold - 1);
        _clipHold = frame.ClippedSamples >= ClippedSamplesPerFrame ? HoldFrames : Math.Max(0, _clipHold - 1);
        _noisyHold = _frames > SettleFrames && frame.NoiseFloorDbfs > NoisyFloorDbfs ? HoldFrames : Math.Max(0, _noisyHold - 1);

        var mask = (_quietHold > 0 ? 1 : 0)
            | (_clipHold > 0 ? 2 : 0)
            | (_noisyHold > 0 ? 4 : 0)
            | (_sinceSpeech >= NoSpeechFrames ? 8 : 0);
        return s_combinations[mask];
    }

    private static string[][] BuildCombinations()
    {
        string[] codes = [TooQuiet, Clipping, TooNoisy, NoSpeech];
        var all = new string[16][];
        for (var mask = 0; mask < 16; mask++)
        {
            all[mask] = codes.Where((_, bit) => (mask & (1 << bit)) != 0).ToArray();
        }
        return all;
    }
}
