using System.Globalization;
using Crowd.Server.Infrastructure.Money;

namespace Crowd.Server.Features.Jobs.Dashboard;

/// <summary>
/// Equal-width bins from <see cref="Min"/>; a value below the first bin counts in it and a value past the last counts in
/// the last, so every clip is in exactly one bin. The database groups with the same arithmetic (see JobDashboards).
/// </summary>
public sealed record HistogramBins(string Metric, double Min, double Width, int Count, string Unit)
{
    public int BinOf(double value) =>
        double.IsNaN(value) ? 0 : (int)Math.Clamp(Math.Floor((value - Min) / Width), 0, Count - 1);

    public double LowerEdge(int bin) => Min + bin * Width;

    /// <summary>"15–20 dB"; the first bin reads "under 5 dB" and the last "55 dB or more", since they also hold what lies beyond.</summary>
    public (string Kind, string From, string To) Label(int bin, double scale = 1)
    {
        string Number(double v) => (v * scale).ToString("0.##", CultureInfo.InvariantCulture);
        return bin == 0 ? ("under", Number(LowerEdge(1)), "")
            : bin == Count - 1 ? ("over", Number(LowerEdge(bin)), "")
            : ("range", Number(LowerEdge(bin)), Number(LowerEdge(bin + 1)));
    }
}

public enum PassRateStep
{
    Hour,
    Day,
}

/// <summary>What a job's dashboard computes from its figures, with no database or HTTP in it.</summary>
public static class DashboardRules
{
    /// <summary>Spend in this window is the pace the projection extrapolates.</summary>
    public static readonly TimeSpan PaceWindow = TimeSpan.FromHours(24);

    /// <summary>A pace measured over less than this is too noisy to extrapolate from.</summary>
    public static readonly TimeSpan ShortestPaceSpan = TimeSpan.FromMinutes(1);

    public static readonly HistogramBins Snr = new("snr", 0, 5, 12, "dB");
    public static readonly HistogramBins Level = new("level", -60, 5, 12, "dBFS");
    public static readonly HistogramBins SpeechRatio = new("speech", 0, 0.1, 10, "%");

    /// <summary>Clip durations from 0 to the job's longest clip, in about 15 bins of whole seconds.</summary>
    public static HistogramBins Duration(int clipMaxMs)
    {
        var longest = Math.Max(1, (int)Math.Ceiling(clipMaxMs / 1000.0));
        var width = Math.Max(1, (int)Math.Ceiling(longest / 15.0));
        return new HistogramBins("duration", 0, width, (int)Math.Ceiling(longest / (double)width) + 1, "s");
    }

    /// <summary>
    /// How long the money left lasts at the pace of the last <see cref="PaceWindow"/> (or since the job went live, when
    /// that is more recent): null when nothing was spent in it, or the pace was measured over too short a time.
    /// </summary>
    public static TimeSpan? UntilMoneyRunsOut(long leftMinor, long spentInWindowMinor, TimeSpan measuredOver)
    {
        if (spentInWindowMinor <= 0 || measuredOver < ShortestPaceSpan)
        {
            return null;
        }
        if (leftMinor <= 0)
        {
            return TimeSpan.Zero;
        }
        var seconds = (double)leftMinor / spentInWindowMinor * measuredOver.TotalSeconds;
        return seconds >= TimeSpan.MaxValue.TotalSeconds / 2 ? TimeSpan.MaxValue : TimeSpan.FromSeconds(Math.Round(seconds));
    }

    /// <summary>The span the pace is measured over: the window, or less when the job went live inside it.</summary>
    public static TimeSpan PaceSpan(DateTimeOffset now, DateTimeOffset? liveSince)
    {
        var start = now - PaceWindow;
        return now - (liveSince is { } since && since > start ? since : start);
    }

    /// <summary>The money the job can still spend: what is left of its budget, and never more than its escrow holds.</summary>
    public static long MoneyLeft(long budgetRemainingMinor, long escrowNetMinor) => Math.Max(0, Math.Min(budgetRemainingMinor, escrowNetMinor));

    /// <summary>Net pay (accrued less taken back) per hour worked; null before any time is worked.</summary>
    public static long? EffectiveHourlyRate(long accruedMinor, long takenBackMinor, long activeMs) =>
        Earnings.PayCalculator.EffectiveHourlyRate(MoneyMath.Subtract(accruedMinor, takenBackMinor, "pay"), activeMs);

    /// <summary>Hourly points while the job's takes all fall in the last two days, daily points after that.</summary>
    public static PassRateStep PassRateStepFor(DateTimeOffset? firstJudged, DateTimeOffset now) =>
        firstJudged is { } first && now - first <= TimeSpan.FromHours(48) ? PassRateStep.Hour : PassRateStep.Day;

    /// <summary>Points older than this are left off the pass-rate chart.</summary>
    public static TimeSpan PassRateHistory(PassRateStep step) => step == PassRateStep.Hour ? TimeSpan.FromHours(48) : TimeSpan.FromDays(60);

    /// <summary>Share of judged takes that passed, in percent, one decimal; null when none was judged.</summary>
    public static double? PassRatePercent(int passed, int judged) => judged == 0 ? null : Math.Round(100.0 * passed / judged, 1);
}
