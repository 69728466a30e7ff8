using System.Globalization;
using Crowd.Audio.Quality;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Suppliers;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Jobs.Dashboard;

/// <summary>One bar or point of a chart, with the words its text table shows for it.</summary>
public sealed record ChartPoint(string Label, double? Value, string Text);

/// <summary>A chart and the table beside it: the script draws the chart from the same points the table lists.</summary>
public sealed record ChartView(string Id, string Title, string Kind, string ValueHeading, IReadOnlyList<ChartPoint> Points);

/// <summary>A progress bar's figures.</summary>
public sealed record BarView(double Value, double Max);

/// <summary>
/// The dashboard as the page shows it and the hub pushes it: every text already formatted in the viewer's language
/// (money, counts, durations), keyed by the element that shows it. The page and the script render only this.
/// </summary>
public sealed record DashboardView(Guid JobId, string State, IReadOnlyDictionary<string, string> Texts, IReadOnlyDictionary<string, BarView> Bars,
    IReadOnlyList<ChartView> Charts, IReadOnlyList<ChartPoint> SpeakerGroups)
{
    private static readonly Dictionary<string, string> s_issueLabels = new()
    {
        [QualityIssue.TooShort.Code()] = "Too short",
        [QualityIssue.TooLong.Code()] = "Too long",
        [QualityIssue.TooQuiet.Code()] = "Too quiet",
        [QualityIssue.Clipping.Code()] = "Clipping",
        [QualityIssue.TooNoisy.Code()] = "Too noisy",
        [QualityIssue.NoSpeech.Code()] = "No speech",
        [QualityIssue.LeadingSilence.Code()] = "Long pause before speaking",
        [QualityIssue.TrailingSilence.Code()] = "Long pause after speaking",
    };

    public static DashboardView From(DashboardFigures f, IStringLocalizer<DashboardText> T)
    {
        var culture = CultureInfo.CurrentCulture;
        string N(long n) => n.ToString("N0", culture);
        var p = f.Progress;
        var m = f.Money;
        var kept = p.Clips - p.Withdrawn;
        var texts = new Dictionary<string, string>
        {
            ["state"] = T[f.State.Label()],
            ["prompts"] = T.Plural(p.Prompts, "{1} of {0} prompt has a kept clip", "{1} of {0} prompts have a kept clip", N(p.PromptsCovered)),
            ["takes"] = T.Plural(p.TakesNeeded, "{1} of {0} take needed", "{1} of {0} takes needed", N(kept)),
            ["judged"] = N(p.TakesJudged),
            ["clips"] = N(p.Clips),
            ["waiting"] = N(p.Waiting),
            ["review-link"] = T["Review clips ({0} waiting)", N(p.Waiting)],
            ["accepted"] = N(p.Accepted),
            ["rejected"] = N(p.Rejected),
            ["withdrawn"] = N(p.Withdrawn),
            ["hours"] = T["{0} hours ({1})", (m.ActiveMs / (double)PayCalculator.MsPerHour).ToString("N2", culture), Clock(m.ActiveMs)],
            ["spend"] = T["{0} of {1}", Currencies.Format(m.Spent), Currencies.Format(m.Budget)],
            ["taken-back"] = Currencies.Format(m.TakenBack),
            ["escrow"] = m.Advanced.Minor > 0
                ? T["{0}; the platform advanced {1}, repaid from your next funding", Currencies.Format(m.Escrow), Currencies.Format(m.Advanced)]
                : Currencies.Format(m.Escrow),
            ["projection"] = Projection(m, T),
            ["rate"] = Currencies.Format(f.Pay.Rate),
            ["floor"] = f.Pay.Floor is { } floor ? Currencies.Format(floor) : T["No floor is set for this region"],
            ["effective"] = f.Pay.Effective is { } e ? Currencies.Format(e) : T["No time worked yet"],
            ["pay-verdict"] = PayVerdict(f.Pay, T),
            ["speakers"] = f.People.SpeakersShown ? N(f.People.Speakers) : T["fewer than {0}", CellSuppression.MinPeople],
            ["speakers-note"] = !f.People.SpeakersShown
                ? T["Speakers' languages and accents are shown once at least {0} people have recorded.", CellSuppression.MinPeople]
                : f.People.SomeHidden
                    ? T["Groups of fewer than {0} speakers are not shown, nor any group that would let one be worked out.", CellSuppression.MinPeople]
                    : "",
            ["as-of"] = T["Figures as of {0} UTC", f.AsOf.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)],
        };
        var bars = new Dictionary<string, BarView>
        {
            ["takes"] = new(kept, Math.Max(1, p.TakesNeeded)),
            ["spend"] = new(m.Spent.Minor, Math.Max(1, m.Budget.Minor)),
        };
        var charts = f.Quality.Histograms.Select(h => Histogram(h, T))
            .Append(new ChartView("reasons", T["Why takes failed the live check"], "bar", T["Takes"],
                f.Quality.FailureReasons.Select(r => new ChartPoint(T[s_issueLabels.GetValueOrDefault(r.Code, r.Code)], r.Takes, N(r.Takes))).ToList()))
            .Append(new ChartView("pass-rate", T["Share of takes that passed the live check"], "line", T["Passed"],
                f.Quality.PassRate.Select(pt => new ChartPoint(
                    pt.At.UtcDateTime.ToString(f.Quality.Step == PassRateStep.Hour ? "MM-dd HH:00" : "yyyy-MM-dd", CultureInfo.InvariantCulture),
                    DashboardRules.PassRatePercent(pt.Passed, pt.Judged),
                    T["{0} % ({1} of {2})", (DashboardRules.PassRatePercent(pt.Passed, pt.Judged) ?? 0).ToString("0.0", CultureInfo.InvariantCulture),
                        N(pt.Passed), N(pt.Judged)])).ToList()))
            .ToList();
        var groups = f.People.Groups.Select(g => new ChartPoint(GroupLabel(g, T), g.Speakers, N(g.Speakers))).ToList();
        return new DashboardView(f.Job.Id, f.State.Code(), texts, bars, charts, groups);
    }

    private static ChartView Histogram(Histogram h, IStringLocalizer<DashboardText> T)
    {
        var (title, scale) = h.Bins.Metric switch
        {
            "snr" => (T["Signal-to-noise ratio of kept clips"], 1.0),
            "level" => (T["Level (RMS) of kept clips"], 1.0),
            "duration" => (T["Duration of kept clips"], 1.0),
            _ => (T["Share of speech in kept clips"], 100.0),
        };
        var points = h.Counts.Select((count, bin) =>
        {
            var (kind, from, to) = h.Bins.Label(bin, scale);
            var label = kind switch
            {
                "under" => T["under {0} {1}", from, h.Bins.Unit],
                "over" => T["{0} {1} or more", from, h.Bins.Unit],
                _ => T["{0} to {1} {2}", from, to, h.Bins.Unit],
            };
            return new ChartPoint(label, count, count.ToString("N0", CultureInfo.CurrentCulture));
        }).ToList();
        return new ChartView(h.Bins.Metric, title, "bar", T["Clips"], points);
    }

    private static string GroupLabel(SpeakerGroup g, IStringLocalizer<DashboardText> T) =>
        g.Language.Length == 0 ? T["Not stated"]
        : g.Accent.Length == 0 ? T["{0}, no accent named", g.Language]
        : $"{g.Language} · {g.Accent}";

    private static string Clock(long ms)
    {
        var t = TimeSpan.FromMilliseconds(ms);
        return string.Create(CultureInfo.InvariantCulture, $"{(long)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}");
    }

    private static string Projection(MoneyFigures m, IStringLocalizer<DashboardText> T)
    {
        if (m.UntilMoneyRunsOut is not { } left)
        {
            return T["Too little work in the last 24 hours to project when the money runs out."];
        }
        if (left == TimeSpan.Zero)
        {
            return T["The money is used up: fund the job to keep it going."];
        }
        return T["About {0} at the pace of the last 24 hours ({1} spent).", Duration(left, T), Currencies.Format(m.SpentInWindow)];
    }

    /// <summary>"3 days 4 hours", "5 hours 12 minutes", "7 minutes": the two largest units, in words.</summary>
    public static string Duration(TimeSpan span, IStringLocalizer T)
    {
        if (span >= TimeSpan.FromDays(3650))
        {
            return T["more than ten years"];
        }
        if (span.TotalDays >= 1)
        {
            return T.Plural((int)span.TotalDays, "{0} day", "{0} days") + " " + T.Plural(span.Hours, "{0} hour", "{0} hours");
        }
        if (span.TotalHours >= 1)
        {
            return T.Plural((int)span.TotalHours, "{0} hour", "{0} hours") + " " + T.Plural(span.Minutes, "{0} minute", "{0} minutes");
        }
        return T.Plural(Math.Max(1, (int)Math.Round(span.TotalMinutes)), "{0} minute", "{0} minutes");
    }

    private static string PayVerdict(PayFigures pay, IStringLocalizer<DashboardText> T)
    {
        if (pay.Effective is not { } effective)
        {
            return T["Contributors have not worked on this job yet."];
        }
        if (pay.Floor is { } floor && effective.Minor < floor.Minor)
        {
            return T["Below the floor: pay taken back on fraud grounds brought the pay per hour worked under {0}.", Currencies.Format(floor)];
        }
        return T["At or above the floor: contributors got {0} per hour worked.", Currencies.Format(effective)];
    }
}

/// <summary>Texts of the job dashboard; translations in DashboardText.zh-Hans.resx.</summary>
public sealed class DashboardText;
