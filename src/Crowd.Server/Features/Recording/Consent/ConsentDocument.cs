using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Crowd.Server.Infrastructure.Money;

namespace Crowd.Server.Features.Recording.Consent;

/// <summary>Everything a consent text says about one version of a job's terms.</summary>
public sealed record ConsentTerms(
    Guid JobId, string Title, int Version, string TermsSha256, string Buyer, bool SpeechRecognition, bool VoiceCloning,
    int RetentionDays, Money HourlyRate, int SupplierFeeBp, bool PeerValidation = false);

/// <summary>A rendered consent text and the SHA-256 of its UTF-8 bytes, by which it is stored and referred to.</summary>
public sealed record RenderedConsent(string Culture, string Body, string Sha256)
{
    /// <summary>The paragraph with the job id, terms version and terms SHA-256: part of what is signed, but not reading matter.</summary>
    public const int IdentifiersParagraph = 1;

    public IEnumerable<string> Paragraphs => Body.Split('\n');
}

/// <summary>
/// The exact consent text for a job version, in English or Simplified Chinese. This text is a record of what a person
/// agreed to, so it is written out here in full for each language rather than assembled from translations: a change to
/// a word gives a different text with a different hash, and the old one stays stored with the consents that showed it.
/// </summary>
public static class ConsentDocument
{
    public const string English = "en";
    public const string Chinese = "zh-Hans";
    public static readonly string[] Cultures = [English, Chinese];

    /// <summary>The culture the text is rendered in for a UI culture: Chinese for any zh culture, English otherwise.</summary>
    public static string CultureFor(CultureInfo ui) =>
        ui.Name.StartsWith("zh", StringComparison.OrdinalIgnoreCase) ? Chinese : English;

    public static RenderedConsent Render(ConsentTerms terms, string culture)
    {
        ArgumentNullException.ThrowIfNull(terms);
        var lines = culture == Chinese ? Chinese_(terms) : English_(terms);
        var body = string.Join('\n', lines);
        return new RenderedConsent(culture == Chinese ? Chinese : English, body, Hash(body));
    }

    public static string Hash(string body) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)));

    private static string Percent(int basisPoints) => (basisPoints / 100m).ToString("0.##", CultureInfo.InvariantCulture);

    private static IEnumerable<string> English_(ConsentTerms t)
    {
        yield return $"Consent to record your voice for the job \"{t.Title}\"";
        yield return $"Job {t.JobId}, terms version {t.Version} (terms SHA-256 {t.TermsSha256}).";
        yield return "Your voice is biometric data. This consent is for this job and these terms only. It is not part of your account or of Crowd's terms of service, and if the terms change you will be asked again.";
        yield return $"Who buys the recordings: {t.Buyer}.";
        yield return "What the recordings may be used for, and nothing else:";
        if (t.SpeechRecognition)
        {
            yield return "- Speech recognition: training and testing systems that turn speech into text.";
        }
        if (t.VoiceCloning)
        {
            yield return "- Voice cloning / speech synthesis (making a voice that sounds like yours): ONLY if you tick the separate box for it. It is off unless you tick it, and you can consent to the rest without it.";
        }
        if (t.PeerValidation)
        {
            yield return "- Peer validation: other contributors of this job listen to your recordings to check that they match the prompt. They see no name, only the recording.";
        }
        yield return $"How long they are kept: {t.RetentionDays} days, or 3 years after your last activity on Crowd if that comes first; then the audio is destroyed.";
        yield return $"Pay: {Currencies.Format(t.HourlyRate)} per hour of active work (recording, listening back, recording again, setting up the microphone).";
        if (t.SupplierFeeBp > 0)
        {
            yield return $"A supplier fee of {Percent(t.SupplierFeeBp)} % is paid by the requester on top of your pay to the supplier you chose to be counted for, if any; it never reduces your pay.";
        }
        yield return "How to withdraw: at any time, with one click on Crowd. Withdrawing stops all use of your recordings, destroys their audio and tells every buyer who received them. The pay you have earned is kept.";
        yield return "Declining costs nothing: you can say no now, or withdraw later, without any penalty, and no supplier, school or employer is told whether you took part.";
        yield return "By typing your full name below you give this consent.";
    }

    private static IEnumerable<string> Chinese_(ConsentTerms t)
    {
        yield return $"为任务“{t.Title}”录制您的声音的同意书";
        yield return $"任务 {t.JobId}，条款第 {t.Version} 版（条款 SHA-256 {t.TermsSha256}）。";
        yield return "您的声音属于生物识别信息。本同意仅针对此任务及本版条款，不属于您的账户或 Crowd 服务条款的一部分；条款如有变更，将再次征求您的同意。";
        yield return $"录音的购买方：{t.Buyer}。";
        yield return "录音仅可用于以下用途，不得用于其他用途：";
        if (t.SpeechRecognition)
        {
            yield return "- 语音识别：训练和测试将语音转为文字的系统。";
        }
        if (t.VoiceCloning)
        {
            yield return "- 声音克隆／语音合成（制作听起来像您的声音）：仅在您勾选单独的复选框时才允许。不勾选即不允许，您可以只同意其余部分。";
        }
        if (t.PeerValidation)
        {
            yield return "- 同伴校验：此任务的其他参与者会收听您的录音，检查是否与提示文本一致。他们看不到您的姓名，只听到录音。";
        }
        yield return $"保存期限：{t.RetentionDays} 天，或您在 Crowd 上最后一次活动后 3 年，以先到者为准；之后音频将被销毁。";
        yield return $"报酬：每小时有效工作 {Currencies.Format(t.HourlyRate)}（录音、回听、重录、调试麦克风）。";
        if (t.SupplierFeeBp > 0)
        {
            yield return $"供应商服务费 {Percent(t.SupplierFeeBp)} % 由需求方在您的报酬之外另行支付给您自愿选择计入的供应商（如有），绝不会减少您的报酬。";
        }
        yield return "如何撤回：随时在 Crowd 上一键撤回。撤回后，您的录音将停止一切使用，音频将被销毁，并通知所有已收到录音的购买方。您已赚取的报酬将保留。";
        yield return "拒绝不会有任何代价：您现在可以拒绝，也可以以后撤回，不会受到任何处罚，也不会告知任何供应商、学校或雇主您是否参与。";
        yield return "在下方输入您的全名，即表示您给予本同意。";
    }
}
