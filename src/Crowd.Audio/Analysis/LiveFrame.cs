namespace Crowd.Audio.Analysis;

/// <summary>What the recorder shows while someone speaks: one per 100 ms of audio.</summary>
/// <param name="Index">0 for the first 100 ms of the take, 1 for the next, and so on.</param>
/// <param name="ClippedSamples">Samples at or above <see cref="SpeechAnalyzer.NearFullScale"/>: a warning that arrives before real clipping.</param>
/// <param name="NoiseFloorDbfs">The running background-noise estimate so far in the take.</param>
/// <param name="SnrDb">
/// The take's SNR so far, from the report's two estimates over the same running sums: WADA-SNR (which needs no pause),
/// or the segmental estimate (all the power over the quietest live noise estimate yet) when it is higher once
/// <see cref="SpeechAnalyzer.MinNoiseSecondsForSegmentalSnr"/> of non-speech has been heard. A take that starts
/// mid-sentence gives the live noise estimate no pause to find the room in, and the segmental figure reads far too low
/// until it does; taking the higher of the two means a noise hint needs both to agree.
/// </param>
public readonly record struct LiveFrame(
    int Index,
    float RmsDbfs,
    float PeakDbfs,
    int ClippedSamples,
    bool Speech,
    float NoiseFloorDbfs,
    float SnrDb);
