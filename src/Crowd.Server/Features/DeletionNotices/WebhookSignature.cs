using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Crowd.Server.Features.DeletionNotices;

/// <summary>
/// How deliveries are signed, the way Stripe signs its webhooks: header <c>Crowd-Signature: t=UNIX,v1=HEX</c>, where HEX
/// is HMAC-SHA256 with the organisation's secret of <c>UNIX + "." + raw body</c>. The receiver recomputes it and refuses
/// old timestamps, so a captured delivery cannot be replayed later.
/// </summary>
public static class WebhookSignature
{
    public const string Header = "Crowd-Signature";
    private const string SecretPrefix = "whsec_";

    public static string NewSecret() => SecretPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static string Sign(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(unixSeconds.ToString(CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
        return string.Create(CultureInfo.InvariantCulture, $"t={unixSeconds},v1={Convert.ToHexStringLower(mac)}");
    }

    /// <summary>Delay before the next attempt after <paramref name="attempts"/> failed ones: base × 2^(attempts−1), at most six hours.</summary>
    public static TimeSpan Backoff(int attempts, TimeSpan baseDelay)
    {
        var factor = Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        var delay = baseDelay.TotalSeconds * factor;
        return TimeSpan.FromSeconds(Math.Min(delay, TimeSpan.FromHours(6).TotalSeconds));
    }
}
