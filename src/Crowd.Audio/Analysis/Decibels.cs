namespace Crowd.Audio.Analysis;

internal static class Decibels
{
    /// <summary>Digital silence has no finite level; reports use this instead of −∞ so they serialise.</summary>
    public const double Floor = -120;

    public static double FromAmplitude(double amplitude) => amplitude > 0 ? Math.Max(Floor, 20 * Math.Log10(amplitude)) : Floor;

    public static double FromPower(double power) => power > 0 ? Math.Max(Floor, 10 * Math.Log10(power)) : Floor;
}
