namespace Crowd.Audio.Quality;

/// <summary>A job's quality bar. The defaults follow Common Voice's clip lengths and loudness and common SNR guidance.</summary>
public sealed record QualityThresholds
{
    public static QualityThresholds Default { get; } = new();

    public double MinDurationSeconds { get; init; } = 1;
    public double MaxDurationSeconds { get; init; } = 15;

    /// <summary>Common Voice's "too quiet" line, applied to the level of the speech itself.</summary>
    public double MinSpeechLevelDbfs { get; init; } = -33.6;

    public double MinSnrDb { get; init; } = 15;

    /// <summary>Share of samples at the rails; a handful of isolated peaks is tolerated, a run of them is not.</summary>
    public double MaxClippedRatio { get; init; } = 0.001;

    public double MinSpeechRatio { get; init; } = 0.2;
    public double MaxLeadingSilenceSeconds { get; init; } = 2;
    public double MaxTrailingSilenceSeconds { get; init; } = 2;
}
