using Crowd.Audio.Analysis;

namespace Crowd.Audio.Quality;

/// <summary>How the last live frame sounds, for the meter's colour: only <see cref="Good"/> is green.</summary>
public enum LiveLevel
{
    /// <summary>No speech in the frame (silence, or noise the detector does not take for a voice).</summary>
    NoSpeech,
    /// <summary>Speech, but below the job's minimum speech level.</summary>
    Quiet,
    /// <summary>Speech at a usable level.</summary>
    Good,
    /// <summary>Speech that clips, as the clipping hint says.</summary>
    Loud,
}

/// <summary>One live frame judged: its level for the meter, the running SNR so far and the hints to show (issue codes).</summary>
public readonly record struct LiveAssessment(LiveLevel Level, float SnrDb, string[] Hints);

/// <summary>
/// The live side of <see cref="QualityGate"/>: the same thresholds and the same measures, kept as running values over
/// the take so far, so that a hint seen while speaking is the reason the take would fail. The running SNR is the
/// analyzer's, by the report's rule (<see cref="LiveFrame.SnrDb"/>); the running speech level is the mean power of the
/// frames with speech. A hint stays up for a second after its cause so it does not flicker. One instance per take
/// (<see cref="Reset"/> between takes); not thread-safe.
/// </summary>
public sealed class LiveQuality(QualityThresholds thresholds)
{
    /// <summary>The top of the meter's target range: speech peaking above it is close to clipping.</summary>
    public const float LoudDbfs = -3f;

    /// <summary>Near-full-scale samples in a frame that count as clipping (0.5 % of 100 ms at 16 kHz).</summary>
    public const int ClippedSamplesPerFrame = 8;

    /// <summary>Frames without speech before "we can't hear you" (2 s).</summary>
    public const int NoSpeechFrames = 20;

    /// <summary>Frames of speech the running level and SNR need before they are judged.</summary>
    public const int SpeechFramesToJudge = 3;

    /// <summary>Consecutive frames below the job's minimum SNR before the noise hint shows (0.3 s).</summary>
    public const int NoisyFramesToShow = 3;

    private const int HoldFrames = 10;

    private static readonly string[][] s_combinations = BuildCombinations();

    private readonly QualityThresholds _thresholds = thresholds ?? throw new ArgumentNullException(nameof(thresholds));
    private int _speechFrames;
    private int _sinceSpeech;
    private double _speechPower;
    private int _noisyRun;
    private int _quietHold;
    private int _clipHold;
    private int _noisyHold;

    /// <summary>The meter's target range in dBFS: from the job's minimum speech level up to <see cref="LoudDbfs"/>.</summary>
    public double TargetLowDbfs => _thresholds.MinSpeechLevelDbfs;

    public void Reset()
    {
        _speechFrames = 0;
        _sinceSpeech = 0;
        _speechPower = 0;
        _noisyRun = 0;
        _quietHold = 0;
        _clipHold = 0;
        _noisyHold = 0;
    }

    /// <summary>Judges the next frame; the hint arrays are shared and must not be changed.</summary>
    public LiveAssessment Next(in LiveFrame frame)
    {
        if (frame.Speech)
        {
            _speechFrames++;
            _speechPower += Math.Pow(10, frame.RmsDbfs / 10.0);
            _sinceSpeech = 0;
        }
        else
        {
            _sinceSpeech++;
        }

        var judged = _speechFrames >= SpeechFramesToJudge;
        var snr = frame.SnrDb;
        var speechLevel = judged ? 10 * Math.Log10(_speechPower / _speechFrames) : double.NaN;

        _noisyRun = judged && snr < _thresholds.MinSnrDb ? _noisyRun + 1 : 0;
        _noisyHold = _noisyRun >= NoisyFramesToShow ? HoldFrames : Math.Max(0, _noisyHold - 1);
        _quietHold = judged && frame.Speech && speechLevel < _thresholds.MinSpeechLevelDbfs ? HoldFrames : Math.Max(0, _quietHold - 1);
        _clipHold = frame.ClippedSamples >= ClippedSamplesPerFrame ? HoldFrames : Math.Max(0, _clipHold - 1);

        var level = !frame.Speech ? LiveLevel.NoSpeech
            : frame.ClippedSamples >= ClippedSamplesPerFrame ? LiveLevel.Loud
            : frame.RmsDbfs < _thresholds.MinSpeechLevelDbfs ? LiveLevel.Quiet
            : LiveLevel.Good;
        var mask = (_quietHold > 0 ? 1 : 0)
            | (_clipHold > 0 ? 2 : 0)
            | (_noisyHold > 0 ? 4 : 0)
            | (_sinceSpeech >= NoSpeechFrames ? 8 : 0);
        return new LiveAssessment(level, snr, s_combinations[mask]);
    }

    private static string[][] BuildCombinations()
    {
        string[] codes = [QualityIssue.TooQuiet.Code(), QualityIssue.Clipping.Code(), QualityIssue.TooNoisy.Code(), QualityIssue.NoSpeech.Code()];
        var all = new string[16][];
        for (var mask = 0; mask < 16; mask++)
        {
            all[mask] = codes.Where((_, bit) => (mask & (1 << bit)) != 0).ToArray();
        }
        return all;
    }
}

public static class LiveLevels
{
    /// <summary>The stable key the recorder page switches on.</summary>
    public static string Code(this LiveLevel level) => level switch
    {
        LiveLevel.NoSpeech => "no_speech",
        LiveLevel.Quiet => "quiet",
        LiveLevel.Good => "good",
        LiveLevel.Loud => "loud",
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, null),
    };
}
