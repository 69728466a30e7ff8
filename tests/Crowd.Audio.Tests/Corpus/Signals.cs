using Crowd.Audio.Wav;

namespace Crowd.Audio.Tests.Corpus;

internal static class Signals
{
    public static float[] ReadMono(string path)
    {
        var file = File.ReadAllBytes(path);
        var info = WavReader.ReadHeader(file);
        var samples = new float[info.FrameCount];
        WavReader.DecodeMono(file.AsSpan(info.DataOffset, info.DataLength), info.Format, samples);
        return samples;
    }

    public static double Energy(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (float v in x)
        {
            sum += (double)v * v;
        }

        return sum;
    }

    /// <summary>
    /// Speech with noise added over the whole clip so that total speech energy over total noise energy
    /// is <paramref name="snrDb"/> — the quantity WADA-SNR and the segmental estimate both measure.
    /// The noise runs through the padding too; the mix is scaled to a 0.9 peak, which keeps the ratio.
    /// </summary>
    public static float[] Mix(ReadOnlySpan<float> speech, ReadOnlySpan<float> noise, double snrDb, double padSeconds, int sampleRate, int noiseOffset = 0)
    {
        int pad = (int)(padSeconds * sampleRate);
        var clean = new float[speech.Length + (2 * pad)];
        speech.CopyTo(clean.AsSpan(pad));
        var noisePart = noise.Slice(noiseOffset, clean.Length);
        double gain = Math.Sqrt(Energy(clean) / Energy(noisePart) / Math.Pow(10, snrDb / 10));
        var mix = new float[clean.Length];
        float peak = 0;
        for (int i = 0; i < mix.Length; i++)
        {
            mix[i] = (float)(clean[i] + (gain * noisePart[i]));
            peak = Math.Max(peak, Math.Abs(mix[i]));
        }

        float scale = 0.9f / peak;
        for (int i = 0; i < mix.Length; i++)
        {
            mix[i] *= scale;
        }

        return mix;
    }

    public static byte[] Pcm16(ReadOnlySpan<float> samples, int sampleRate) => WavWriter.Pcm16Mono(samples, sampleRate);
}
