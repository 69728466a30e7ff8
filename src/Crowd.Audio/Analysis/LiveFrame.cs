namespace Crowd.Audio.Analysis;

/// <summary>What the recorder shows while someone speaks: one per 100 ms of audio.</summary>
/// <param name="Index">0 for the first 100 ms of the take, 1 for the next, and so on.</param>
/// <param name="ClippedSamples">Samples at or above <see cref="SpeechAnalyzer.NearFullScale"/>: a warning that arrives before real clipping.</param>
/// <param name="NoiseFloorDbfs">The running background-noise estimate so far in the take.</param>
public readonly record struct LiveFrame(
    int Index,
    float RmsDbfs,
    float PeakDbfs,
    int ClippedSamples,
    bool Speech,
    float NoiseFloorDbfs);
