using System.Globalization;
using System.Text.RegularExpressions;

namespace Crowd.Audio.Tests.Corpus;

/// <summary>The fields of <c>sox FILE -n [effects] stats</c> we compare with, as sox printed them.</summary>
internal sealed partial record SoxStats(string DcOffset, string MinLevel, string MaxLevel, string PeakDb, string RmsDb, string PeakCount, string SampleCount)
{
    public static SoxStats Of(string path, params string[] effects)
    {
        string output = Tools.Run("sox", [path, "-n", .. effects, "stats"]);
        var fields = new Dictionary<string, string>();
        foreach (Match match in Line().Matches(output))
        {
            fields[match.Groups["key"].Value] = match.Groups["value"].Value;
        }

        return new SoxStats(fields["DC offset"], fields["Min level"], fields["Max level"], fields["Pk lev dB"], fields["RMS lev dB"], fields["Pk count"], fields["Num samples"]);
    }

    public static double Number(string printed) => printed switch
    {
        "-inf" => double.NegativeInfinity,
        _ => double.Parse(printed, CultureInfo.InvariantCulture),
    };

    /// <summary>sox prints counts to three significant figures with a k/M suffix ("80.9k").</summary>
    public static double Count(string printed)
    {
        double scale = printed[^1] switch { 'k' => 1e3, 'M' => 1e6, 'G' => 1e9, _ => 1 };
        return Number(scale == 1 ? printed : printed[..^1]) * scale;
    }

    [GeneratedRegex(@"^(?<key>[A-Za-z][A-Za-z ]*?[A-Za-z])\s{2,}(?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Line();
}
