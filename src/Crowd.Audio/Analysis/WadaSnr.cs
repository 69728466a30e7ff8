namespace Crowd.Audio.Analysis;

/// <summary>
/// WADA-SNR (Kim and Stern, Interspeech 2008): speech amplitudes follow a Gamma distribution of shape
/// 0.4, noise is Gaussian, and G = ln E|x| − E ln|x| of their sum rises monotonically with the SNR.
/// The G-to-SNR table is derived here by a seeded Monte-Carlo run with common random numbers, so
/// the curve is smooth and identical on every machine.
/// </summary>
internal static class WadaSnr
{
    public const double MinDb = -20;
    public const double MaxDb = 60;

    private const double Shape = 0.4;
    private const int Draws = 100_000;
    private const int Seed = 2008;

    private static readonly double[] s_g = BuildTable();

    public static double Estimate(double meanAbs, double meanLog)
    {
        if (meanAbs <= 0)
        {
            return MinDb;
        }

        double g = Math.Log(meanAbs) - meanLog;
        if (g <= s_g[0])
        {
            return MinDb;
        }

        for (int i = 1; i < s_g.Length; i++)
        {
            if (g < s_g[i])
            {
                double t = (g - s_g[i - 1]) / (s_g[i] - s_g[i - 1]);
                return MinDb + i - 1 + t;
            }
        }

        return MaxDb;
    }

    private static double[] BuildTable()
    {
        var random = new Random(Seed);
        var speech = new double[Draws];
        var noise = new double[Draws];
        double speechPower = 0;
        double noisePower = 0;
        for (int i = 0; i < Draws; i++)
        {
            double magnitude = Gamma(random, Shape);
            speech[i] = random.Next(2) == 0 ? magnitude : -magnitude;
            noise[i] = Gaussian(random);
            speechPower += speech[i] * speech[i];
            noisePower += noise[i] * noise[i];
        }

        var table = new double[(int)(MaxDb - MinDb) + 1];
        for (int step = 0; step < table.Length; step++)
        {
            double gain = Math.Sqrt(Math.Pow(10, (MinDb + step) / 10) * noisePower / speechPower);
            double sumAbs = 0;
            double sumLog = 0;
            for (int i = 0; i < Draws; i++)
            {
                double magnitude = Math.Max(Math.Abs((gain * speech[i]) + noise[i]), 1e-20);
                sumAbs += magnitude;
                sumLog += Math.Log(magnitude);
            }

            table[step] = Math.Log(sumAbs / Draws) - (sumLog / Draws);
            if (step > 0 && table[step] <= table[step - 1])
            {
                table[step] = table[step - 1] + 1e-9;
            }
        }

        return table;
    }

    // Marsaglia and Tsang (2000); shapes below 1 are boosted by one and scaled back by U^(1/shape).
    private static double Gamma(Random random, double shape)
    {
        if (shape < 1)
        {
            return Gamma(random, shape + 1) * Math.Pow(1 - random.NextDouble(), 1 / shape);
        }

        double d = shape - (1.0 / 3);
        double c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x = Gaussian(random);
            double v = 1 + (c * x);
            if (v <= 0)
            {
                continue;
            }

            v = v * v * v;
            double u = 1 - random.NextDouble();
            if (Math.Log(u) < (0.5 * x * x) + d - (d * v) + (d * Math.Log(v)))
            {
                return d * v;
            }
        }
    }

    private static double Gaussian(Random random)
    {
        double u1 = 1 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
