namespace Crowd.Audio.Analysis;

/// <summary>Everything the quality gate needs to know about one finished take.</summary>
/// <param name="RmsDbfs">RMS over every sample, DC included, as <c>sox stats</c> prints "RMS lev dB".</param>
/// <param name="PeakDbfs">Largest magnitude, as <c>sox stats</c> prints "Pk lev dB".</param>
/// <param name="DcOffset">Mean sample value in full-scale units.</param>
/// <param name="ClippedSamples">Samples at the PCM16 rails (−32768 or 32767) or beyond.</param>
/// <param name="ClippingEvents">Runs of consecutive samples at the rails.</param>
/// <param name="SpeechLevelDbfs">RMS over the frames the voice-activity detector calls speech.</param>
/// <param name="NoiseFloorDbfs">Mean power of the frames the detector calls non-speech.</param>
/// <param name="SnrDb">The SNR the quality gate uses (see <see cref="SpeechAnalyzer"/> for how it is chosen).</param>
/// <param name="WadaSnrDb">WADA-SNR (Kim and Stern 2008) over the whole take.</param>
/// <param name="SegmentalSnrDb">Speech energy over noise energy, the noise measured in the non-speech frames.</param>
/// <param name="SpeechRatio">Share of the take's analysis frames that hold speech.</param>
public sealed record ClipReport(
    int SampleRate,
    long SampleCount,
    double DurationSeconds,
    double RmsDbfs,
    double PeakDbfs,
    double DcOffset,
    long ClippedSamples,
    double ClippedRatio,
    int ClippingEvents,
    double SpeechLevelDbfs,
    double NoiseFloorDbfs,
    double SnrDb,
    double WadaSnrDb,
    double SegmentalSnrDb,
    double SpeechRatio,
    double LeadingSilenceSeconds,
    double TrailingSilenceSeconds)
{
    public bool HasSpeech => SpeechRatio > 0;
}
