using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Crowd.Audio.Wav;

namespace Crowd.Audio.Analysis;

/// <summary>
/// Streaming speech-quality analysis of one take at a time. Feed samples in order with
/// <c>Append</c> (any chunk size), read the live frames it writes, call <see cref="Complete"/> for the
/// report and <see cref="Reset"/> before the next take. All buffers are allocated up front, so
/// appending does not allocate (the voice-activity history only grows for takes past 20 s).
/// Not thread-safe: one analyzer per connection.
/// </summary>
/// <remarks>
/// <see cref="ClipReport.SnrDb"/> is the segmental estimate when the take has at least
/// <see cref="MinNoiseSecondsForSegmentalSnr"/> of non-speech to measure the noise in, and WADA-SNR
/// otherwise: WADA needs no pauses, but on synthetic speech it overestimates clean takes by up to 26 dB
/// (see README.md for the measurements).
/// The loops over samples are compiled optimized at their first call (AggressiveOptimization): a server that started
/// under the load of a thousand recorders ran them as unoptimized tier-0 code for minutes, at about four times the cost,
/// and never caught up.
/// </remarks>
public sealed class SpeechAnalyzer
{
    /// <summary>Live frames count samples from here up as "clipping" so the hint comes before the damage.</summary>
    public const float NearFullScale = 0.99f;

    public const double LiveFrameSeconds = 0.1;
    public const double MinNoiseSecondsForSegmentalSnr = 0.1;

    private const float PositiveRail = 32767f / 32768f;
    private const float NegativeRail = -1f;
    private const float WadaMagnitudeFloor = 1e-5f;
    private const int ConvertBlock = 512;
    private const int InitialHistorySeconds = 20;

    private readonly int _liveFrameLength;
    private readonly int _vadFrameLength;
    private readonly float[] _vadBuffer;
    private readonly BandEnergies _bandEnergies;
    private readonly VoiceActivityDetector _vad;

    private long _count;
    private double _sum;
    private double _sumSquares;
    private double _sumAbs;
    private double _sumLog;
    private long _wadaCount;
    private float _min;
    private float _max;
    private long _clipped;
    private int _clippingEvents;
    private bool _inClippingRun;

    private int _vadFill;
    private double _vadSumSquares;
    private double _vadSumAbs;
    private double _vadSumLog;

    private int _liveFill;
    private int _liveIndex;
    private double _liveSumSquares;
    private float _livePeak;
    private int _liveNearClip;
    private bool _liveSpeech;
    private int _liveNoiseFrames;
    private double _liveNoiseMin;

    public SpeechAnalyzer(int sampleRate)
    {
        if (sampleRate is < WavReader.MinSampleRate or > WavReader.MaxSampleRate)
        {
            throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, $"Sample rates from {WavReader.MinSampleRate} to {WavReader.MaxSampleRate} Hz are supported.");
        }

        SampleRate = sampleRate;
        _liveFrameLength = (int)Math.Round(sampleRate * LiveFrameSeconds);

        // ~16–24 ms, a power of two for the FFT.
        _vadFrameLength = (int)BitOperations.RoundUpToPowerOf2((uint)(sampleRate * 0.012));
        _vadBuffer = new float[_vadFrameLength];
        _bandEnergies = new BandEnergies(_vadFrameLength, sampleRate);
        int initialFrames = InitialHistorySeconds * sampleRate / _vadFrameLength;
        _vad = new VoiceActivityDetector(_bandEnergies, initialFrames);
        Reset();
    }

    public int SampleRate { get; }

    /// <summary>Seconds of audio per voice-activity frame, the resolution of the speech edges.</summary>
    public double VadFrameSeconds => (double)_vadFrameLength / SampleRate;

    /// <summary>How many live frames appending <paramref name="sampleCount"/> more samples will complete.</summary>
    public int LiveFramesCompletedBy(int sampleCount) => (_liveFill + sampleCount) / _liveFrameLength;

    public void Reset()
    {
        _count = 0;
        _sum = 0;
        _sumSquares = 0;
        _sumAbs = 0;
        _sumLog = 0;
        _wadaCount = 0;
        _min = float.PositiveInfinity;
        _max = float.NegativeInfinity;
        _clipped = 0;
        _clippingEvents = 0;
        _inClippingRun = false;
        ResetVadFrame();
        _liveIndex = 0;
        _liveNoiseFrames = 0;
        _liveNoiseMin = double.PositiveInfinity;
        ResetLiveFrame();
        _vad.Reset();
    }

    /// <summary>Appends samples without live frames (whole-file analysis).</summary>
    public void Append(ReadOnlySpan<float> samples) => Append(samples, []);

    public void Append(ReadOnlySpan<short> samples) => Append(samples, []);

    /// <summary>Appends full-scale float samples (finite; the WAV reader saturates float files) and writes the live frames they complete.</summary>
    /// <returns>How many live frames were written to <paramref name="liveFrames"/>.</returns>
    /// <exception cref="ArgumentException">When <paramref name="liveFrames"/> is not empty but has fewer than <see cref="LiveFramesCompletedBy"/> slots.</exception>
    public int Append(ReadOnlySpan<float> samples, Span<LiveFrame> liveFrames)
    {
        EnsureRoom(samples.Length, liveFrames);
        int written = 0;
        Process(samples, liveFrames, ref written);
        return written;
    }

    public int Append(ReadOnlySpan<short> samples, Span<LiveFrame> liveFrames)
    {
        EnsureRoom(samples.Length, liveFrames);
        Span<float> block = stackalloc float[ConvertBlock];
        int written = 0;
        while (!samples.IsEmpty)
        {
            int n = Math.Min(ConvertBlock, samples.Length);
            ToFloat(samples[..n], block);
            Process(block[..n], liveFrames, ref written);
            samples = samples[n..];
        }

        return written;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ToFloat(ReadOnlySpan<short> source, Span<float> destination)
    {
        var scale = new Vector<float>(1f / 32768f);
        var shorts = MemoryMarshal.Cast<short, Vector<short>>(source);
        var floats = MemoryMarshal.Cast<float, Vector<float>>(destination);
        for (int i = 0; i < shorts.Length; i++)
        {
            Vector.Widen(shorts[i], out var low, out var high);
            floats[2 * i] = Vector.ConvertToSingle(low) * scale;
            floats[(2 * i) + 1] = Vector.ConvertToSingle(high) * scale;
        }

        for (int i = shorts.Length * Vector<short>.Count; i < source.Length; i++)
        {
            destination[i] = source[i] * (1f / 32768f);
        }
    }

    /// <summary>Reads a whole WAV file (stereo is averaged to mono) and reports on it.</summary>
    /// <exception cref="WavFormatException">When the file is not a WAV file this analyzer supports.</exception>
    public static ClipReport AnalyzeWav(ReadOnlySpan<byte> wavFile)
    {
        var info = WavReader.ReadHeader(wavFile);
        var analyzer = new SpeechAnalyzer(info.Format.SampleRate);
        analyzer.AppendWav(wavFile.Slice(info.DataOffset, info.DataLength), info.Format);
        return analyzer.Complete();
    }

    /// <summary>Decodes and appends the data chunk of a WAV file in fixed-size blocks.</summary>
    public void AppendWav(ReadOnlySpan<byte> data, WavFormat format)
    {
        Span<float> block = stackalloc float[ConvertBlock];
        int written = 0;
        while (data.Length >= format.BlockAlign)
        {
            int frames = WavReader.DecodeMono(data, format, block);
            Process(block[..frames], [], ref written);
            data = data[(frames * format.BlockAlign)..];
        }
    }

    public ClipReport Complete()
    {
        if (_vadFill > 0)
        {
            AddToWada(_vadSumSquares / _vadFill);
        }

        var speech = _vad.Finish();
        double duration = (double)_count / SampleRate;
        double frameSeconds = VadFrameSeconds;
        double totalPower = _count > 0 ? _sumSquares / _count : 0;

        double segmentalSnr = SnrDb(totalPower, speech.NoisePower);
        double wadaSnr = WadaSnrDb();
        bool enoughNoise = speech.NoiseFrames * frameSeconds >= MinNoiseSecondsForSegmentalSnr;
        double leading = speech.FirstSpeechFrame >= 0 ? speech.FirstSpeechFrame * frameSeconds : duration;
        double trailing = speech.FirstSpeechFrame >= 0 ? Math.Max(0, duration - ((speech.LastSpeechFrame + 1) * frameSeconds)) : duration;

        return new ClipReport(
            SampleRate: SampleRate,
            SampleCount: _count,
            DurationSeconds: duration,
            RmsDbfs: Decibels.FromPower(totalPower),
            PeakDbfs: _count > 0 ? Decibels.FromAmplitude(Math.Max(-_min, _max)) : Decibels.Floor,
            DcOffset: _count > 0 ? _sum / _count : 0,
            ClippedSamples: _clipped,
            ClippedRatio: _count > 0 ? (double)_clipped / _count : 0,
            ClippingEvents: _clippingEvents,
            SpeechLevelDbfs: Decibels.FromPower(speech.SpeechPower),
            NoiseFloorDbfs: Decibels.FromPower(speech.NoisePower),
            SnrDb: enoughNoise ? segmentalSnr : wadaSnr,
            WadaSnrDb: wadaSnr,
            SegmentalSnrDb: segmentalSnr,
            SpeechRatio: speech.Frames > 0 ? (double)speech.SpeechFrames / speech.Frames : 0,
            LeadingSilenceSeconds: leading,
            TrailingSilenceSeconds: trailing);
    }

    private double RunningSnrDb()
    {
        bool enoughNoise = _liveNoiseFrames * VadFrameSeconds >= MinNoiseSecondsForSegmentalSnr;
        double wada = WadaSnrDb();
        return enoughNoise ? Math.Max(wada, SnrDb(_sumSquares / _count, _liveNoiseMin)) : wada;
    }

    /// <summary>WADA-SNR over the audio heard so far, leaving out digital silence: its zeros would read as a very clean voice.</summary>
    private double WadaSnrDb() => _wadaCount > 0 ? WadaSnr.Estimate(_sumAbs / _wadaCount, _sumLog / _wadaCount) : WadaSnr.MinDb;

    private void AddToWada(double meanSquare)
    {
        if (!VoiceActivityDetector.IsDigitalSilence(meanSquare))
        {
            _sumAbs += _vadSumAbs;
            _sumLog += _vadSumLog;
            _wadaCount += _vadFill;
        }
    }

    private void ResetVadFrame()
    {
        _vadFill = 0;
        _vadSumSquares = 0;
        _vadSumAbs = 0;
        _vadSumLog = 0;
    }

    private static double SnrDb(double totalPower, double noisePower)
    {
        if (noisePower <= 0)
        {
            return totalPower > 0 ? WadaSnr.MaxDb : WadaSnr.MinDb;
        }

        double speechPower = totalPower - noisePower;
        return speechPower <= 0 ? WadaSnr.MinDb : Math.Clamp(10 * Math.Log10(speechPower / noisePower), WadaSnr.MinDb, WadaSnr.MaxDb);
    }

    private void EnsureRoom(int sampleCount, Span<LiveFrame> liveFrames)
    {
        int needed = LiveFramesCompletedBy(sampleCount);
        if (!liveFrames.IsEmpty && liveFrames.Length < needed)
        {
            throw new ArgumentException($"These samples complete {needed} live frame(s) but there is room for {liveFrames.Length}.", nameof(liveFrames));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Process(ReadOnlySpan<float> samples, Span<LiveFrame> liveFrames, ref int written)
    {
        while (!samples.IsEmpty)
        {
            int n = Math.Min(samples.Length, Math.Min(_liveFrameLength - _liveFill, _vadFrameLength - _vadFill));
            var segment = samples[..n];
            segment.CopyTo(_vadBuffer.AsSpan(_vadFill));
            Accumulate(segment);
            _vadFill += n;
            _liveFill += n;
            samples = samples[n..];

            if (_vadFill == _vadFrameLength)
            {
                double meanSquare = _vadSumSquares / _vadFrameLength;
                var speech = _vad.AddFrame(_vadBuffer, meanSquare);
                _liveSpeech |= speech;
                _liveNoiseFrames += speech || VoiceActivityDetector.IsDigitalSilence(meanSquare) ? 0 : 1;
                AddToWada(meanSquare);
                ResetVadFrame();
            }

            if (_liveFill == _liveFrameLength)
            {
                if (_vad.HasLiveNoise)
                {
                    // The live noise estimate rises through long speech; the take's quietest estimate yet is the room.
                    _liveNoiseMin = Math.Min(_liveNoiseMin, _vad.LiveNoisePower);
                }

                if (!liveFrames.IsEmpty)
                {
                    liveFrames[written++] = new LiveFrame(
                        _liveIndex,
                        (float)Decibels.FromPower(_liveSumSquares / _liveFrameLength),
                        (float)Decibels.FromAmplitude(_livePeak),
                        _liveNearClip,
                        _liveSpeech,
                        (float)Decibels.FromPower(_vad.LiveNoisePower),
                        (float)RunningSnrDb());
                }

                _liveIndex++;
                ResetLiveFrame();
            }
        }
    }

    private void ResetLiveFrame()
    {
        _liveFill = 0;
        _liveSumSquares = 0;
        _livePeak = 0;
        _liveNearClip = 0;
        _liveSpeech = false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Accumulate(ReadOnlySpan<float> segment)
    {
        var sum = Vector<float>.Zero;
        var squares = Vector<float>.Zero;
        var abs = Vector<float>.Zero;
        var min = new Vector<float>(float.PositiveInfinity);
        var max = new Vector<float>(float.NegativeInfinity);

        // ln|x| without a log per sample: sum the binary exponents and multiply the mantissas, taking
        // one log per lane at the end. Mantissas are in [1, 2), so 64 products stay far below float's range.
        var exponents = Vector<int>.Zero;
        var mantissas = Vector<float>.One;
        var floor = new Vector<float>(WadaMagnitudeFloor);
        var mantissaMask = new Vector<int>(0x007FFFFF);
        var one = new Vector<int>(0x3F800000);
        var bias = new Vector<int>(127);
        long exponentTotal = 0;
        double mantissaLog = 0;

        var vectors = MemoryMarshal.Cast<float, Vector<float>>(segment);
        for (int i = 0; i < vectors.Length; i++)
        {
            var v = vectors[i];
            var a = Vector.Abs(v);
            sum += v;
            squares += v * v;
            abs += a;
            min = Vector.Min(min, v);
            max = Vector.Max(max, v);

            var bits = Vector.AsVectorInt32(Vector.Max(a, floor));
            exponents += Vector.ShiftRightArithmetic(bits, 23) - bias;
            mantissas *= Vector.AsVectorSingle((bits & mantissaMask) | one);
            if ((i & 63) == 63)
            {
                FoldMantissas(ref mantissas, ref exponents, mantissaMask, one, bias);
            }
        }

        FoldMantissas(ref mantissas, ref exponents, mantissaMask, one, bias);
        double laneProduct = 1;
        for (int lane = 0; lane < Vector<float>.Count; lane++)
        {
            exponentTotal += exponents[lane];
            laneProduct *= mantissas[lane];
        }

        mantissaLog += Math.Log2(laneProduct);

        double segSum = Vector.Sum(sum);
        double segSquares = Vector.Sum(squares);
        double segAbs = Vector.Sum(abs);
        float segMin = float.PositiveInfinity;
        float segMax = float.NegativeInfinity;
        for (int lane = 0; lane < Vector<float>.Count && !vectors.IsEmpty; lane++)
        {
            segMin = Math.Min(segMin, min[lane]);
            segMax = Math.Max(segMax, max[lane]);
        }

        for (int i = vectors.Length * Vector<float>.Count; i < segment.Length; i++)
        {
            float x = segment[i];
            float a = Math.Abs(x);
            segSum += x;
            segSquares += x * x;
            segAbs += a;
            segMin = Math.Min(segMin, x);
            segMax = Math.Max(segMax, x);
            mantissaLog += Math.Log2(Math.Max(a, WadaMagnitudeFloor));
        }

        _count += segment.Length;
        _sum += segSum;
        _sumSquares += segSquares;
        _vadSumAbs += segAbs;
        _vadSumLog += (exponentTotal + mantissaLog) * Math.Log(2);
        _min = Math.Min(_min, segMin);
        _max = Math.Max(_max, segMax);
        _vadSumSquares += segSquares;
        _liveSumSquares += segSquares;
        float segPeak = Math.Max(-segMin, segMax);
        _livePeak = Math.Max(_livePeak, segPeak);

        if (segPeak >= NearFullScale)
        {
            CountClipping(segment);
        }
        else
        {
            _inClippingRun = false;
        }
    }

    private static void FoldMantissas(ref Vector<float> mantissas, ref Vector<int> exponents, Vector<int> mantissaMask, Vector<int> one, Vector<int> bias)
    {
        var bits = Vector.AsVectorInt32(mantissas);
        exponents += Vector.ShiftRightArithmetic(bits, 23) - bias;
        mantissas = Vector.AsVectorSingle((bits & mantissaMask) | one);
    }

    private void CountClipping(ReadOnlySpan<float> segment)
    {
        foreach (float x in segment)
        {
            if (Math.Abs(x) >= NearFullScale)
            {
                _liveNearClip++;
            }

            if (x >= PositiveRail || x <= NegativeRail)
            {
                _clipped++;
                if (!_inClippingRun)
                {
                    _clippingEvents++;
                    _inClippingRun = true;
                }
            }
            else
            {
                _inClippingRun = false;
            }
        }
    }
}
