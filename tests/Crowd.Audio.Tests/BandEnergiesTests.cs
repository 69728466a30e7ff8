using Crowd.Audio.Analysis;

namespace Crowd.Audio.Tests;

public sealed class BandEnergiesTests
{
    [Theory]
    [InlineData(8000, 128)]
    [InlineData(16000, 256)]
    [InlineData(48000, 1024)]
    public void BandEnergiesMatchANaiveDiscreteFourierTransform(int sampleRate, int length)
    {
        var random = new Random(11);
        var frame = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var bands = new BandEnergies(length, sampleRate);
        var actual = new float[BandEnergies.BandCount];

        bands.Compute(frame, actual);

        double[] edges = [80, 250, 500, 1000, 2000, 3000, 4000];
        double binHz = (double)sampleRate / length;
        for (int b = 0; b < BandEnergies.BandCount; b++)
        {
            double expected = 0;
            for (int k = (int)Math.Ceiling(edges[b] / binHz); k < Math.Min(length / 2, (int)Math.Ceiling(edges[b + 1] / binHz)); k++)
            {
                double re = 0;
                double im = 0;
                for (int n = 0; n < length; n++)
                {
                    double w = 0.5 - (0.5 * Math.Cos(2 * Math.PI * n / length));
                    re += frame[n] * w * Math.Cos(2 * Math.PI * k * n / length);
                    im -= frame[n] * w * Math.Sin(2 * Math.PI * k * n / length);
                }

                expected += (re * re) + (im * im);
            }

            ((double)actual[b]).ShouldBe(expected, expected * 1e-3, $"band {b}");
        }
    }
}
