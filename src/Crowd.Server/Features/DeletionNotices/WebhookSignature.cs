using System.Security.Cryptography;
using Crowd.Server.Infrastructure.Security;

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

    public static string Sign(string secret, long unixSeconds, ReadOnlySpan<byte> body) => TimestampedSignature.Header(secret, unixSeconds, body);

    /// <summary>Delay before the next attempt after <paramref name="attempts"/> failed ones: base × 2^(attempts−1), at most six hours.</summary>
    public static TimeSpan Backoff(int attempts, TimeSpan baseDelay)
    {
        var factor = Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        var delay = baseDelay.TotalSeconds * factor;
        return TimeSpan.FromSeconds(Math.Min(delay, TimeSpan.FromHours(6).TotalSeconds));
    }
}
