using System.Globalization;
using System.Security.Cryptography;
using Crowd.Server.Infrastructure.Security;

namespace Crowd.Server.Features.Payouts.Stripe;

public enum SignatureCheck
{
    Valid,
    Missing,
    Malformed,
    NoMatch,
    TooOld,
}

/// <summary>
/// Stripe's webhook signature: header "t=TIMESTAMP,v1=HEX[,v1=HEX…]", each v1 an HMAC-SHA256 with a signing secret of
/// TIMESTAMP + "." + the raw body. Any v1 may match any configured secret (rotation), and the timestamp must be
/// within the tolerance of now, so that an old delivery cannot be replayed.
/// </summary>
public static class StripeSignature
{
    public static SignatureCheck Verify(string? header, ReadOnlySpan<byte> payload, IReadOnlyList<string> secrets, DateTimeOffset now, TimeSpan tolerance)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return SignatureCheck.Missing;
        }
        long? timestamp = null;
        var signatures = new List<byte[]>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                continue;
            }
            var (key, value) = (part[..eq], part[(eq + 1)..]);
            if (key == "t" && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var t))
            {
                timestamp = t;
            }
            else if (key == "v1" && value.Length == 64)
            {
                try
                {
                    signatures.Add(Convert.FromHexString(value));
                }
                catch (FormatException)
                {
                }
            }
        }
        if (timestamp is null || signatures.Count == 0)
        {
            return SignatureCheck.Malformed;
        }

        var matched = false;
        foreach (var secret in secrets.Where(s => !string.IsNullOrEmpty(s)))
        {
            var expected = TimestampedSignature.Mac(secret, timestamp.Value, payload);
            foreach (var signature in signatures)
            {
                matched |= CryptographicOperations.FixedTimeEquals(expected, signature);
            }
        }
        if (!matched)
        {
            return SignatureCheck.NoMatch;
        }
        var age = now - DateTimeOffset.FromUnixTimeSeconds(timestamp.Value);
        return age.Duration() > tolerance ? SignatureCheck.TooOld : SignatureCheck.Valid;
    }
}
