namespace Crowd.Server.Infrastructure.Money;

/// <summary>An amount in integer minor units (fen, cents, pence) of an ISO 4217 currency.</summary>
public readonly record struct Money(long Minor, string Currency)
{
    /// <summary>
    /// The largest single figure the platform handles: a budget, an escrow, a funding, one ledger entry. Under 10^15 minor
    /// units (10 trillion in a two-decimal currency), so that sums of many such figures stay far inside a 64-bit integer.
    /// </summary>
    public const long MaxMinor = 999_999_999_999_999;

    public static Money Zero(string currency) => new(0, currency);

    public override string ToString() => Currencies.Format(this);
}

/// <summary>
/// A money computation whose exact result lies outside what a rule allows or a 64-bit integer holds. It names the field
/// whose value led there; it is refused, never wrapped.
/// </summary>
public sealed class AmountOutOfRangeException(string field, string message) : OverflowException(message)
{
    public string Field { get; } = field;
}

/// <summary>Checked arithmetic on minor units: every result is exact or refused with the field it came from.</summary>
public static class MoneyMath
{
    /// <summary>The exact value as minor units, or a refusal naming the field when it does not fit in a long.</summary>
    public static long Narrow(Int128 exact, string field) =>
        exact >= long.MinValue && exact <= long.MaxValue
            ? (long)exact
            : throw new AmountOutOfRangeException(field, $"{field}: {exact} is outside the range of an amount.");

    public static long Add(long a, long b, string field) => Narrow((Int128)a + b, field);

    public static long Subtract(long a, long b, string field) => Narrow((Int128)a - b, field);

    /// <summary>numerator / denominator rounded up (towards positive infinity), for a positive denominator; exact.</summary>
    public static Int128 CeilDiv(Int128 numerator, long denominator)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(denominator);
        var (quotient, remainder) = Int128.DivRem(numerator, denominator);
        return remainder > 0 ? quotient + 1 : quotient;
    }

    /// <summary>numerator / denominator rounded up, as minor units, or a refusal naming the field.</summary>
    public static long CeilDiv(Int128 numerator, long denominator, string field) => Narrow(CeilDiv(numerator, denominator), field);
}

public static class Currencies
{
    // ISO 4217 code → number of minor-unit digits, for the currencies the platform pays in.
    private static readonly Dictionary<string, int> s_exponents = new(StringComparer.Ordinal)
    {
        ["CNY"] = 2, ["USD"] = 2, ["EUR"] = 2, ["GBP"] = 2, ["HKD"] = 2, ["SGD"] = 2,
        ["AUD"] = 2, ["CAD"] = 2, ["CHF"] = 2, ["INR"] = 2, ["JPY"] = 0, ["KRW"] = 0,
    };

    public static IReadOnlyCollection<string> Supported => s_exponents.Keys;

    public static bool IsSupported(string? code) => code is not null && s_exponents.ContainsKey(code);

    public static int Exponent(string code) => s_exponents[code];

    /// <summary>
    /// Parses a major-unit amount such as "27.70" into minor units; null when it has more decimals than the currency or
    /// does not fit in minor units (a long). Range rules (how much a rate or a funding may be) belong to the caller.
    /// </summary>
    public static long? ParseMajor(string? text, string currency)
    {
        if (!IsSupported(currency) || !decimal.TryParse(text, System.Globalization.NumberStyles.Number,
                System.Globalization.CultureInfo.InvariantCulture, out var major))
        {
            return null;
        }
        var scale = Pow10(Exponent(currency));
        // Checked before multiplying: a decimal holds up to 7.9 × 10^28, and scaling the largest of them would overflow.
        if (Math.Abs(major) > long.MaxValue / (decimal)scale + 1)
        {
            return null;
        }
        var minor = major * scale;
        return minor == decimal.Truncate(minor) && minor is >= long.MinValue and <= long.MaxValue ? (long)minor : null;
    }

    public static decimal ToMajor(Money money) => money.Minor / (decimal)Pow10(Exponent(money.Currency));

    public static string Format(Money money) =>
        IsSupported(money.Currency)
            ? ToMajor(money).ToString("N" + Exponent(money.Currency), System.Globalization.CultureInfo.InvariantCulture) + " " + money.Currency
            : money.Minor + " " + money.Currency;

    private static long Pow10(int exponent) => exponent switch { 0 => 1, 2 => 100, 3 => 1000, _ => (long)Math.Pow(10, exponent) };
}
