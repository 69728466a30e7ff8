using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Crowd.Server.Infrastructure.Security;

/// <summary>
/// How Crowd signs its own webhooks, in the scheme Stripe uses for its webhooks (so a receiver can check it with a Stripe
/// library): HMAC-SHA256 with a shared secret of <c>UNIX_SECONDS + "." + raw body</c>, sent as <c>t=UNIX_SECONDS,v1=HEX</c>.
/// The timestamp is signed, so a receiver that refuses old ones cannot be fed a captured delivery later. Stripe's own
/// webhooks to Crowd are checked by Stripe.net (see StripeWebhooks).
/// </summary>
public static class TimestampedSignature
{
    public static byte[] Mac(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(unixSeconds.ToString(CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
    }

    public static string Header(string secret, long unixSeconds, ReadOnlySpan<byte> body) =>
        string.Create(CultureInfo.InvariantCulture, $"t={unixSeconds},v1={Convert.ToHexStringLower(Mac(secret, unixSeconds, body))}");
}
