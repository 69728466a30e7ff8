using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Crowd.Audio.Analysis;

/// <param name="NoiseFrames">Non-speech frames that are not digital silence: the frames the noise is measured in.</param>
internal readonly record struct SpeechSummary(
    int Frames,
    int SpeechFrames,
    int NoiseFrames,
    int FirstSpeechFrame,
    int LastSpeechFrame,
    double SpeechPower,
    double NoisePower);

/// <summary>
/// A band-energy likelihood-ratio detector in the spirit of WebRTC's: per 16–24 ms frame, six band
/// energies (80 Hz–4 kHz) are compared with a per-band noise model, and the frame is speech when the
/// bin-weighted Gaussian log-likelihood ratio (Sohn et al. 1999, with the maximum-likelihood a-priori
/// SNR) is high. Weighting by bins keeps the few, wildly fluctuating low-frequency bins of brown noise
/// from voting alone. Live decisions use a causal minimum-statistics noise model; the report re-runs
/// the decision over the whole take with a noise model fitted to the whole take.
/// Digital silence (a browser's audio dropout, a hard noise gate) is never speech and never the room's noise: the noise
/// after a dropout is the same noise as before it, not a voice rising out of silence.
/// </summary>
internal sealed class VoiceActivityDetector
{
    private const int Stride = BandEnergies.BandCount + 1;
    private const int PowerColumn = BandEnergies.BandCount;
    private const double ScoreThreshold = 1.0;

    // −60 dBFS: quieter frames are not speech whatever their spectrum, so digital near-silence is never "speech".
    private const double LevelGate = 1e-6;
    // About −100 dBFS: below 16-bit quantisation noise, so only (nearly) all-zero frames are this quiet.
    private const float PowerFloor = 1e-10f;
    private const double NoisePercentile = 0.2;
    private const double MinRunSeconds = 0.03;
    private const double HangoverSeconds = 0.06;
    private const double LeadInSeconds = 0.03;
    private const double OutlierFactor = 4;

    private const float Smoothing = 0.2f;
    // A microphone opening as the take starts can give a first frame far quieter than the room (a fade-in, a filter
    // settling). Taken as the room, it turned the room itself into "speech" for a second; it only seeds the smoothing.
    private const int WarmUpFrames = 8;
    private const int SubWindowFrames = 8;
    private const int SubWindows = 6;
    private const float MinimumBias = 1.5f;

    private readonly BandEnergies _bandEnergies;
    private readonly float[] _floors = new float[Stride];
    private readonly float[] _noise = new float[Stride];
    private readonly float[] _liveNoise = new float[Stride];
    private readonly float[] _smoothed = new float[Stride];
    private readonly float[] _subMin = new float[Stride];
    private readonly float[] _ring = new float[Stride * SubWindows];
    private readonly float[] _bands = new float[BandEnergies.BandCount];
    private readonly int _minRunFrames;
    private readonly int _hangoverFrames;
    private readonly int _leadInFrames;
    private readonly int _dropoutSamples;
    private float[] _history;
    private float[] _sortScratch;
    private bool[] _speech;
    private int _frames;
    private int _liveNoiseFrames;

    public VoiceActivityDetector(BandEnergies bandEnergies, int initialFrames)
    {
        _bandEnergies = bandEnergies;
        for (int b = 0; b < BandEnergies.BandCount; b++)
        {
            _floors[b] = PowerFloor * bandEnergies.WhiteNoiseGain(b);
        }

        _floors[PowerColumn] = PowerFloor;
        _history = new float[initialFrames * Stride];
        _sortScratch = new float[initialFrames];
        _speech = new bool[initialFrames];
        double frameSeconds = bandEnergies.FrameSeconds;
        _minRunFrames = Math.Max(1, (int)Math.Round(MinRunSeconds / frameSeconds));
        _hangoverFrames = (int)Math.Ceiling(HangoverSeconds / frameSeconds);
        _leadInFrames = (int)Math.Round(LeadInSeconds / frameSeconds);
        _dropoutSamples = Math.Max(8, bandEnergies.FrameLength / 8);
    }

    public double LiveNoisePower => _liveNoise[PowerColumn];

    /// <summary>Whether the live noise model has heard enough of the room, digital silence aside, to judge a frame against it.</summary>
    public bool HasLiveNoise => _liveNoiseFrames >= WarmUpFrames;

    public static bool IsDigitalSilence(double meanSquare) => meanSquare <= PowerFloor;

    public void Reset()
    {
        _frames = 0;
        _liveNoiseFrames = 0;
        Array.Clear(_liveNoise);
    }

    /// <summary>Adds one analysis frame; returns the live (causal) speech decision for it.</summary>
    public bool AddFrame(ReadOnlySpan<float> frame, double meanSquare)
    {
        _bandEnergies.Compute(frame, _bands);
        if ((_frames + 1) * Stride > _history.Length)
        {
            // Only takes longer than the initial capacity get here; the history doubles, amortised.
            Array.Resize(ref _history, _history.Length * 2);
        }

        var row = _history.AsSpan(_frames * Stride, Stride);
        _bands.CopyTo(row);
        row[PowerColumn] = (float)meanSquare;
        if (!IsDigitalSilence(meanSquare) && !HasDropout(frame))
        {
            TrackLiveNoise(row);
        }

        _frames++;
        return HasLiveNoise && IsSpeech(row, _liveNoise);
    }

    public SpeechSummary Finish()
    {
        int frames = _frames;
        if (frames == 0)
        {
            return new SpeechSummary(0, 0, 0, -1, -1, 0, 0);
        }

        if (_speech.Length < frames)
        {
            _speech = new bool[_history.Length / Stride];
            _sortScratch = new float[_history.Length / Stride];
        }

        var speech = _speech.AsSpan(0, frames);
        for (int column = 0; column < Stride; column++)
        {
            _noise[column] = Math.Max(_floors[column], Percentile(column, NoisePercentile));
        }

        Classify(speech);
        if (FitNoiseToNonSpeech(speech))
        {
            Classify(speech);
        }

        Smooth(speech);

        int speechFrames = 0;
        int noiseFrames = 0;
        int first = -1;
        int last = -1;
        double speechPower = 0;
        for (int f = 0; f < frames; f++)
        {
            double power = _history[(f * Stride) + PowerColumn];
            if (speech[f])
            {
                speechFrames++;
                speechPower += power;
                first = first < 0 ? f : first;
                last = f;
            }
            else if (!IsDigitalSilence(power))
            {
                noiseFrames++;
            }
        }

        double noisePower = noiseFrames >= 3 ? RobustNoisePower(speech) : Percentile(PowerColumn, 0.1);
        speechPower = speechFrames > 0 ? speechPower / speechFrames : 0;
        return new SpeechSummary(frames, speechFrames, noiseFrames, first, last, speechPower, noisePower);
    }

    /// <summary>
    /// Mean power of the non-speech frames that are not digital silence, leaving out frames far above their median: one
    /// missed consonant carries more energy than a second of quiet noise and would halve the measured SNR.
    /// </summary>
    private double RobustNoisePower(ReadOnlySpan<bool> speech)
    {
        int count = 0;
        for (int f = 0; f < speech.Length; f++)
        {
            float power = _history[(f * Stride) + PowerColumn];
            if (!speech[f] && !IsDigitalSilence(power))
            {
                _sortScratch[count++] = power;
            }
        }

        var powers = _sortScratch.AsSpan(0, count);
        double ceiling = OutlierFactor * Select(powers, count / 2);
        double sum = 0;
        int kept = 0;
        foreach (float power in powers)
        {
            if (power <= ceiling)
            {
                sum += power;
                kept++;
            }
        }

        return sum / kept;
    }

    /// <summary>
    /// Whether the frame holds the edge of a dropout: a run of exact zeros (an eighth of the frame, 2 ms at 16 kHz) that
    /// starts or ends it. Half a frame of zeros halves its power, and the live model's minimum would keep that for a
    /// second; a gap inside one frame only dents the smoothed power.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool HasDropout(ReadOnlySpan<float> samples)
    {
        if (samples[0] != 0 && samples[^1] != 0)
        {
            return false;
        }

        // Compared as bits, so the search is vectorised: a dropout is +0.0, as every silent PCM16 sample converts to.
        var frame = MemoryMarshal.Cast<float, int>(samples);
        while (true)
        {
            int start = frame.IndexOf(0);
            if (start < 0 || frame.Length - start < _dropoutSamples)
            {
                return false;
            }

            frame = frame[start..];
            int end = frame.IndexOfAnyExcept(0);
            if (end < 0 || end >= _dropoutSamples)
            {
                return true;
            }

            frame = frame[end..];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool IsSpeech(ReadOnlySpan<float> row, ReadOnlySpan<float> noise)
    {
        if (row[PowerColumn] <= LevelGate)
        {
            return false;
        }

        double weighted = 0;
        int bins = 0;
        for (int b = 0; b < BandEnergies.BandCount; b++)
        {
            int k = _bandEnergies.BinsPerBand[b];
            float gamma = row[b] / Math.Max(noise[b], _floors[b]);
            if (gamma > 1)
            {
                weighted += k * (gamma - MathF.Log(gamma) - 1);
            }

            bins += k;
        }

        return bins > 0 && weighted / bins > ScoreThreshold;
    }

    private void Classify(Span<bool> speech)
    {
        for (int f = 0; f < speech.Length; f++)
        {
            speech[f] = IsSpeech(_history.AsSpan(f * Stride, Stride), _noise);
        }
    }

    private bool FitNoiseToNonSpeech(ReadOnlySpan<bool> speech)
    {
        int count = 0;
        Span<double> sums = stackalloc double[Stride];
        for (int f = 0; f < speech.Length; f++)
        {
            if (!speech[f] && !IsDigitalSilence(_history[(f * Stride) + PowerColumn]))
            {
                count++;
                for (int column = 0; column < Stride; column++)
                {
                    sums[column] += _history[(f * Stride) + column];
                }
            }
        }

        if (count < Math.Max(5, speech.Length / 10))
        {
            return false;
        }

        for (int column = 0; column < Stride; column++)
        {
            _noise[column] = Math.Max(_floors[column], (float)(sums[column] / count));
        }

        return true;
    }

    /// <summary>Drops blips shorter than the minimum run, then widens each remaining run: onsets and decays are quieter than the noise.</summary>
    private void Smooth(Span<bool> speech)
    {
        int f = 0;
        while (f < speech.Length)
        {
            if (!speech[f])
            {
                f++;
                continue;
            }

            int end = f;
            while (end < speech.Length && speech[end])
            {
                end++;
            }

            if (end - f < _minRunFrames)
            {
                speech[f..end].Clear();
                f = end;
                continue;
            }

            speech[Math.Max(0, f - _leadInFrames)..f].Fill(true);
            int held = Math.Min(speech.Length, end + _hangoverFrames);
            int next = end;
            for (; next < held; next++)
            {
                if (speech[next])
                {
                    break;
                }

                speech[next] = true;
            }

            f = next;
        }
    }

    private float Percentile(int column, double fraction)
    {
        var values = _sortScratch.AsSpan(0, _frames);
        for (int f = 0; f < _frames; f++)
        {
            values[f] = _history[(f * Stride) + column];
        }

        return Select(values, (int)(fraction * (_frames - 1)));
    }

    /// <summary>The k-th smallest value, in linear time (Hoare's selection); reorders <paramref name="values"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Select(Span<float> values, int k)
    {
        int lo = 0;
        int hi = values.Length - 1;
        while (lo < hi)
        {
            float first = values[lo];
            float middle = values[lo + ((hi - lo) >> 1)];
            float last = values[hi];
            float pivot = Math.Max(Math.Min(first, middle), Math.Min(Math.Max(first, middle), last));
            int i = lo;
            int j = hi;
            while (i <= j)
            {
                while (values[i] < pivot)
                {
                    i++;
                }

                while (values[j] > pivot)
                {
                    j--;
                }

                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }

            if (k <= j)
            {
                hi = j;
            }
            else if (k >= i)
            {
                lo = i;
            }
            else
            {
                return values[k];
            }
        }

        return values[k];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TrackLiveNoise(ReadOnlySpan<float> row)
    {
        if (_liveNoiseFrames == 0)
        {
            row.CopyTo(_smoothed);
            Array.Fill(_subMin, float.PositiveInfinity);
            Array.Fill(_ring, float.PositiveInfinity);
        }

        _liveNoiseFrames++;
        bool closeSubWindow = _liveNoiseFrames % SubWindowFrames == 0;
        int slot = (_liveNoiseFrames / SubWindowFrames) % SubWindows;
        for (int column = 0; column < Stride; column++)
        {
            _smoothed[column] += Smoothing * (row[column] - _smoothed[column]);
            if (_liveNoiseFrames < WarmUpFrames)
            {
                continue;
            }

            _subMin[column] = Math.Min(_subMin[column], _smoothed[column]);
            float min = _subMin[column];
            for (int w = 0; w < SubWindows; w++)
            {
                min = Math.Min(min, _ring[(column * SubWindows) + w]);
            }

            _liveNoise[column] = MinimumBias * min;
            if (closeSubWindow)
            {
                _ring[(column * SubWindows) + slot] = _subMin[column];
                _subMin[column] = float.PositiveInfinity;
            }
        }
    }
}
