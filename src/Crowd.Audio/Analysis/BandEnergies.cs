namespace Crowd.Audio.Analysis;

/// <summary>
/// Energies of the six telephone-band regions a WebRTC-style detector looks at (80 Hz–4 kHz),
/// from a Hann-windowed real FFT done as a half-length complex FFT. Preallocated; no per-frame allocation.
/// </summary>
internal sealed class BandEnergies
{
    public const int BandCount = 6;

    private static readonly double[] s_edgesHz = [80, 250, 500, 1000, 2000, 3000, 4000];

    private readonly int _length;
    private readonly int _half;
    private readonly float[] _window;
    private readonly float[] _re;
    private readonly float[] _im;
    private readonly float[] _twiddleCos;
    private readonly float[] _twiddleSin;
    private readonly float[] _unpackCos;
    private readonly float[] _unpackSin;
    private readonly int[] _bitReverse;
    private readonly int[] _bandFirstBin;
    private readonly int[] _bandEndBin;

    public BandEnergies(int frameLength, int sampleRate)
    {
        _length = frameLength;
        _half = frameLength / 2;
        _window = new float[frameLength];
        for (int i = 0; i < frameLength; i++)
        {
            _window[i] = (float)(0.5 - (0.5 * Math.Cos(2 * Math.PI * i / frameLength)));
        }

        _re = new float[_half];
        _im = new float[_half];
        _twiddleCos = new float[_half / 2];
        _twiddleSin = new float[_half / 2];
        for (int k = 0; k < _half / 2; k++)
        {
            _twiddleCos[k] = (float)Math.Cos(2 * Math.PI * k / _half);
            _twiddleSin[k] = (float)Math.Sin(2 * Math.PI * k / _half);
        }

        _unpackCos = new float[_half + 1];
        _unpackSin = new float[_half + 1];
        for (int k = 0; k <= _half; k++)
        {
            _unpackCos[k] = (float)Math.Cos(2 * Math.PI * k / frameLength);
            _unpackSin[k] = (float)Math.Sin(2 * Math.PI * k / frameLength);
        }

        int bits = System.Numerics.BitOperations.Log2((uint)_half);
        _bitReverse = new int[_half];
        for (int i = 0; i < _half; i++)
        {
            int r = 0;
            for (int b = 0; b < bits; b++)
            {
                r |= ((i >> b) & 1) << (bits - 1 - b);
            }

            _bitReverse[i] = r;
        }

        _bandFirstBin = new int[BandCount];
        _bandEndBin = new int[BandCount];
        BinsPerBand = new int[BandCount];
        FrameSeconds = (double)frameLength / sampleRate;
        double binHz = (double)sampleRate / frameLength;
        for (int b = 0; b < BandCount; b++)
        {
            _bandFirstBin[b] = Math.Min(_half, (int)Math.Ceiling(s_edgesHz[b] / binHz));
            _bandEndBin[b] = Math.Min(_half, (int)Math.Ceiling(s_edgesHz[b + 1] / binHz));
            BinsPerBand[b] = _bandEndBin[b] - _bandFirstBin[b];
        }
    }

    public int[] BinsPerBand { get; }

    public double FrameSeconds { get; private init; }

    /// <summary>Expected band energy per unit of white-noise power, to turn a dBFS floor into band units.</summary>
    public float WhiteNoiseGain(int band) => BinsPerBand[band] * _length * 0.375f;

    public void Compute(ReadOnlySpan<float> frame, Span<float> bands)
    {
        var re = _re.AsSpan();
        var im = _im.AsSpan();
        for (int m = 0; m < _half; m++)
        {
            int r = _bitReverse[m];
            re[r] = frame[2 * m] * _window[2 * m];
            im[r] = frame[(2 * m) + 1] * _window[(2 * m) + 1];
        }

        for (int size = 2; size <= _half; size <<= 1)
        {
            int halfSize = size >> 1;
            int step = _half / size;
            for (int start = 0; start < _half; start += size)
            {
                for (int j = 0; j < halfSize; j++)
                {
                    float wc = _twiddleCos[j * step];
                    float ws = _twiddleSin[j * step];
                    int a = start + j;
                    int b = a + halfSize;
                    float tr = (re[b] * wc) + (im[b] * ws);
                    float ti = (im[b] * wc) - (re[b] * ws);
                    re[b] = re[a] - tr;
                    im[b] = im[a] - ti;
                    re[a] += tr;
                    im[a] += ti;
                }
            }
        }

        for (int band = 0; band < BandCount; band++)
        {
            float energy = 0;
            for (int k = _bandFirstBin[band]; k < _bandEndBin[band]; k++)
            {
                int mirror = k == 0 ? 0 : _half - k;
                float ar = re[k];
                float ai = im[k];
                float br = re[mirror];
                float bi = im[mirror];
                float evenRe = 0.5f * (ar + br);
                float evenIm = 0.5f * (ai - bi);
                float oddRe = 0.5f * (ai + bi);
                float oddIm = -0.5f * (ar - br);
                float c = _unpackCos[k];
                float s = -_unpackSin[k];
                float xr = evenRe + (c * oddRe) - (s * oddIm);
                float xi = evenIm + (c * oddIm) + (s * oddRe);
                energy += (xr * xr) + (xi * xi);
            }

            bands[band] = energy;
        }
    }
}
