using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
    private readonly float[] _power;
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
        _power = new float[_half + 1];

        // Stage by stage, so each stage reads its twiddles contiguously: those of the stage whose
        // butterflies span h sit at [h, 2h).
        _twiddleCos = new float[_half];
        _twiddleSin = new float[_half];
        for (int h = 1; h < _half; h <<= 1)
        {
            for (int j = 0; j < h; j++)
            {
                _twiddleCos[h + j] = (float)Math.Cos(Math.PI * j / h);
                _twiddleSin[h + j] = (float)Math.Sin(Math.PI * j / h);
            }
        }

        _unpackCos = new float[_half + 1];
        _unpackSin = new float[_half + 1];
        for (int k = 0; k <= _half; k++)
        {
            _unpackCos[k] = (float)Math.Cos(2 * Math.PI * k / frameLength);
            _unpackSin[k] = (float)Math.Sin(2 * Math.PI * k / frameLength);
        }

        int bits = BitOperations.Log2((uint)_half);
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

    public int FrameLength => _length;

    public int[] BinsPerBand { get; }

    public double FrameSeconds { get; }

    /// <summary>Expected band energy per unit of white-noise power, to turn a dBFS floor into band units.</summary>
    public float WhiteNoiseGain(int band) => BinsPerBand[band] * _length * 0.375f;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void Compute(ReadOnlySpan<float> frame, Span<float> bands)
    {
        int half = _half;
        fixed (float* x = frame, window = _window, re = _re, im = _im, tc = _twiddleCos, ts = _twiddleSin)
        fixed (int* reverse = _bitReverse)
        {
            // Load even samples as real and odd as imaginary parts, windowed and in bit-reversed
            // order, and do the first two (twiddle-free) butterfly stages on the way in.
            for (int g = 0; g < half; g += 4)
            {
                int r0 = 2 * reverse[g];
                int r1 = 2 * reverse[g + 1];
                int r2 = 2 * reverse[g + 2];
                int r3 = 2 * reverse[g + 3];
                float p0r = x[r0] * window[r0];
                float p0i = x[r0 + 1] * window[r0 + 1];
                float p1r = x[r1] * window[r1];
                float p1i = x[r1 + 1] * window[r1 + 1];
                float p2r = x[r2] * window[r2];
                float p2i = x[r2 + 1] * window[r2 + 1];
                float p3r = x[r3] * window[r3];
                float p3i = x[r3 + 1] * window[r3 + 1];
                float q0r = p0r + p1r;
                float q0i = p0i + p1i;
                float q1r = p0r - p1r;
                float q1i = p0i - p1i;
                float q2r = p2r + p3r;
                float q2i = p2i + p3i;
                float q3r = p2r - p3r;
                float q3i = p2i - p3i;
                re[g] = q0r + q2r;
                im[g] = q0i + q2i;
                re[g + 2] = q0r - q2r;
                im[g + 2] = q0i - q2i;

                // Multiplying by the stage's second twiddle, −i, swaps and negates.
                re[g + 1] = q1r + q3i;
                im[g + 1] = q1i - q3r;
                re[g + 3] = q1r - q3i;
                im[g + 3] = q1i + q3r;
            }

            int width = Vector<float>.Count;
            for (int size = 8; size <= half; size <<= 1)
            {
                int h = size >> 1;
                float* stageCos = tc + h;
                float* stageSin = ts + h;
                for (int start = 0; start < half; start += size)
                {
                    int j = 0;
                    for (; j + width <= h; j += width)
                    {
                        float* ra = re + start + j;
                        float* ia = im + start + j;
                        var wc = Vector.Load(stageCos + j);
                        var ws = Vector.Load(stageSin + j);
                        var rb = Vector.Load(ra + h);
                        var ib = Vector.Load(ia + h);
                        var ar = Vector.Load(ra);
                        var ai = Vector.Load(ia);
                        var tr = (rb * wc) + (ib * ws);
                        var ti = (ib * wc) - (rb * ws);
                        (ar - tr).Store(ra + h);
                        (ai - ti).Store(ia + h);
                        (ar + tr).Store(ra);
                        (ai + ti).Store(ia);
                    }

                    for (; j + 4 <= h && Vector128.IsHardwareAccelerated; j += 4)
                    {
                        float* ra = re + start + j;
                        float* ia = im + start + j;
                        var wc = Vector128.Load(stageCos + j);
                        var ws = Vector128.Load(stageSin + j);
                        var rb = Vector128.Load(ra + h);
                        var ib = Vector128.Load(ia + h);
                        var ar = Vector128.Load(ra);
                        var ai = Vector128.Load(ia);
                        var tr = (rb * wc) + (ib * ws);
                        var ti = (ib * wc) - (rb * ws);
                        (ar - tr).Store(ra + h);
                        (ai - ti).Store(ia + h);
                        (ar + tr).Store(ra);
                        (ai + ti).Store(ia);
                    }

                    for (; j < h; j++)
                    {
                        int a = start + j;
                        int b = a + h;
                        float wc = stageCos[j];
                        float ws = stageSin[j];
                        float tr = (re[b] * wc) + (im[b] * ws);
                        float ti = (im[b] * wc) - (re[b] * ws);
                        re[b] = re[a] - tr;
                        im[b] = im[a] - ti;
                        re[a] += tr;
                        im[a] += ti;
                    }
                }
            }

            fixed (float* uc = _unpackCos, us = _unpackSin, power = _power)
            {
                // Untangle the half-length transform into the real signal's spectrum, bin k from
                // Z[k] and Z[half − k]; only the bins the bands use. Bands start above bin 0.
                int k = _bandFirstBin[0];
                int end = _bandEndBin[BandCount - 1];
                if (Vector256.IsHardwareAccelerated)
                {
                    var backwards = Vector256.Create(7, 6, 5, 4, 3, 2, 1, 0);
                    var halfVector = Vector256.Create(0.5f);
                    for (; k + 8 <= end; k += 8)
                    {
                        var ar = Vector256.Load(re + k);
                        var ai = Vector256.Load(im + k);
                        var br = Vector256.Shuffle(Vector256.Load(re + half - k - 7), backwards);
                        var bi = Vector256.Shuffle(Vector256.Load(im + half - k - 7), backwards);
                        var evenRe = halfVector * (ar + br);
                        var evenIm = halfVector * (ai - bi);
                        var oddRe = halfVector * (ai + bi);
                        var oddIm = halfVector * (br - ar);
                        var c = Vector256.Load(uc + k);
                        var s = -Vector256.Load(us + k);
                        var xr = evenRe + (c * oddRe) - (s * oddIm);
                        var xi = evenIm + (c * oddIm) + (s * oddRe);
                        ((xr * xr) + (xi * xi)).Store(power + k);
                    }
                }

                for (; k < end; k++)
                {
                    float ar = re[k];
                    float ai = im[k];
                    float br = re[half - k];
                    float bi = im[half - k];
                    float evenRe = 0.5f * (ar + br);
                    float evenIm = 0.5f * (ai - bi);
                    float oddRe = 0.5f * (ai + bi);
                    float oddIm = 0.5f * (br - ar);
                    float c = uc[k];
                    float s = -us[k];
                    float xr = evenRe + (c * oddRe) - (s * oddIm);
                    float xi = evenIm + (c * oddIm) + (s * oddRe);
                    power[k] = (xr * xr) + (xi * xi);
                }

                for (int band = 0; band < BandCount; band++)
                {
                    float energy = 0;
                    for (int bin = _bandFirstBin[band]; bin < _bandEndBin[band]; bin++)
                    {
                        energy += power[bin];
                    }

                    bands[band] = energy;
                }
            }
        }
    }
}
