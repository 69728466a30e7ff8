using Crowd.Audio.Analysis;

namespace Crowd.Audio.Quality;

public static class QualityGate
{
    public static Verdict Judge(ClipReport report, QualityThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(thresholds);
        var reasons = new List<VerdictReason>();
        void Fail(QualityIssue issue) => reasons.Add(VerdictReason.For(issue));

        if (report.DurationSeconds < thresholds.MinDurationSeconds)
        {
            Fail(QualityIssue.TooShort);
        }

        if (report.DurationSeconds > thresholds.MaxDurationSeconds)
        {
            Fail(QualityIssue.TooLong);
        }

        if (report.ClippedRatio > thresholds.MaxClippedRatio)
        {
            Fail(QualityIssue.Clipping);
        }

        // Without speech, level, noise and pauses have nothing to be measured against: one reason says it all.
        if (report.SpeechRatio < thresholds.MinSpeechRatio)
        {
            Fail(QualityIssue.NoSpeech);
            return new Verdict(reasons);
        }

        if (report.SpeechLevelDbfs < thresholds.MinSpeechLevelDbfs)
        {
            Fail(QualityIssue.TooQuiet);
        }

        if (report.SnrDb < thresholds.MinSnrDb)
        {
            Fail(QualityIssue.TooNoisy);
        }

        if (report.LeadingSilenceSeconds > thresholds.MaxLeadingSilenceSeconds)
        {
            Fail(QualityIssue.LeadingSilence);
        }

        if (report.TrailingSilenceSeconds > thresholds.MaxTrailingSilenceSeconds)
        {
            Fail(QualityIssue.TrailingSilence);
        }

        return new Verdict(reasons);
    }
}
