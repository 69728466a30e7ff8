namespace Crowd.Audio.Tests.Corpus;

public sealed record Voice(string Name, string Espeak, string Sentence, string Word);

/// <summary>
/// Test recordings made once per run from espeak-ng speech and sox noise, in a temporary directory:
/// nothing opaque is checked in, and every file can be regenerated and listened to.
/// </summary>
public sealed class AudioCorpus : IDisposable
{
    public const int Rate = 16000;
    public static readonly int[] SampleRates = [8000, 16000, 22050, 44100, 48000];
    public static readonly string[] NoiseColours = ["white", "pink", "brown"];

    public static readonly Voice[] Voices =
    [
        new("en", "en-us", "Please read this sentence clearly, so that the quality checker can hear every single word.", "yes"),
        new("en-f", "en-gb+f3", "The weather was cold and windy, but the children still played happily in the park.", "no"),
        new("de", "de", "Bitte lesen Sie diesen Satz deutlich vor, damit die Prüfung jedes Wort gut verstehen kann.", "ja"),
        new("zh", "cmn", "请清楚地朗读这句话，这样质量检查程序就能听清每一个字。", "是"),
    ];

    /// <summary>Every voice in every noise colour, for theories over the whole corpus.</summary>
    public static TheoryData<string, string> VoicesAndColours()
    {
        var data = new TheoryData<string, string>();
        foreach (var voice in Voices)
        {
            foreach (var colour in NoiseColours)
            {
                data.Add(voice.Name, colour);
            }
        }

        return data;
    }

    public static Voice VoiceNamed(string name) => Voices.Single(v => v.Name == name);

    private readonly Dictionary<string, float[]> _speech = [];
    private readonly Dictionary<string, float[]> _words = [];
    private readonly Dictionary<string, float[]> _noise = [];

    public AudioCorpus()
    {
        Directory = Path.Combine(Path.GetTempPath(), "crowd-audio-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(Directory);
        foreach (var voice in Voices)
        {
            string raw = PathOf($"{voice.Name}-raw.wav");
            Tools.Run("espeak-ng", "-v", voice.Espeak, "-w", raw, voice.Sentence);
            foreach (int rate in SampleRates)
            {
                Tools.Sox("-D", raw, "-r", rate.ToString(System.Globalization.CultureInfo.InvariantCulture), "-b", "16", SpeechPath(voice, rate));
            }

            _speech[voice.Name] = Signals.ReadMono(SpeechPath(voice, Rate));
            string word = PathOf($"{voice.Name}-word.wav");
            Tools.Run("espeak-ng", "-v", voice.Espeak, "-w", PathOf($"{voice.Name}-word-raw.wav"), voice.Word);
            Tools.Sox("-D", PathOf($"{voice.Name}-word-raw.wav"), "-r", "16000", "-b", "16", word);
            _words[voice.Name] = Signals.ReadMono(word);
        }

        foreach (var colour in NoiseColours)
        {
            string path = PathOf($"noise-{colour}.wav");
            Tools.Sox("-R", "-D", "-n", "-r", "16000", "-e", "floating-point", "-b", "32", path, "synth", "40", colour + "noise", "vol", "0.25");
            _noise[colour] = Signals.ReadMono(path);
        }
    }

    public string Directory { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    public string SpeechPath(Voice voice, int rate) => PathOf($"{voice.Name}-{rate}.wav");

    public float[] Speech(Voice voice) => _speech[voice.Name];

    public float[] Word(Voice voice) => _words[voice.Name];

    public float[] Noise(string colour) => _noise[colour];

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is not worth failing a test run over.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AudioCorpusGroup : ICollectionFixture<AudioCorpus>
{
    public const string Name = "audio corpus";
}
