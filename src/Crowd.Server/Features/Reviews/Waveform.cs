using System.Globalization;
using System.Text;
using Crowd.Audio.Wav;

namespace Crowd.Server.Features.Reviews;

/// <summary>A clip's waveform as an SVG drawn on the server, so that it shows without JavaScript. Pure.</summary>
public static class Waveform
{
    /// <summary>The loudest sample (0..1) in each of <paramref name="buckets"/> equal slices of the clip.</summary>
    public static float[] Peaks(ReadOnlySpan<byte> wav, int buckets)
    {
        var info = WavReader.ReadHeader(wav);
        var frames = info.DataLength / info.Format.BlockAlign;
        var samples = new float[frames];
        WavReader.DecodeMono(wav.Slice(info.DataOffset, info.DataLength), info.Format, samples);
        var peaks = new float[buckets];
        if (frames == 0)
        {
            return peaks;
        }
        for (var i = 0; i < frames; i++)
        {
            var bucket = (int)((long)i * buckets / frames);
            var level = Math.Abs(samples[i]);
            if (level > peaks[bucket])
            {
                peaks[bucket] = Math.Min(1f, level);
            }
        }
        return peaks;
    }

    /// <summary>One vertical bar per peak, mirrored around the middle line; only numbers go into the markup.</summary>
    public static string Svg(float[] peaks, int width = 600, int height = 80)
    {
        var svg = new StringBuilder();
        var mid = height / 2.0;
        var step = (double)width / Math.Max(1, peaks.Length);
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"waveform\" data-testid=\"waveform\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" preserveAspectRatio=\"none\"><path d=\"");
        for (var i = 0; i < peaks.Length; i++)
        {
            // Quiet stretches still show a hairline, so silence is visible as silence rather than as nothing.
            var half = Math.Max(0.5, peaks[i] * mid);
            svg.Append(CultureInfo.InvariantCulture, $"M{i * step:0.##} {mid - half:0.##}V{mid + half:0.##}");
        }
        svg.Append(CultureInfo.InvariantCulture, $"\" stroke=\"#2457d6\" stroke-width=\"{Math.Max(1, step * 0.7):0.##}\" fill=\"none\"/></svg>");
        return svg.ToString();
    }
}
