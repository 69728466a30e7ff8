namespace Crowd.Server.Infrastructure.Money;

/// <summary>An amount in integer minor units (fen, cents, pence) of an ISO 4217 currency.</summary>
public readonly record struct Money(long Minor, string Currency)
{
    public static Money Zero(string currency) => new(0, currency);

    public override string ToString() => Currencies.Format(this);
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

    /// <summary>Parses a major-unit amount such as "27.70" into minor units; null when it has more decimals than the currency.</summary>
    public static long? ParseMajor(string? text, string currency)
    {
        if (!IsSupported(currency) || !decimal.TryParse(text, System.Globalization.NumberStyles.Number,
                System.Globalization.CultureInfo.InvariantCulture, out var major))
        {
            return null;
        }
        var minor = major * Pow10(Exponent(currency));
        return minor == decimal.Truncate(minor) && minor is >= long.MinValue and <= long.MaxValue ? (long)minor : null;
    }

    public static decimal ToMajor(Money money) => money.Minor / (decimal)Pow10(Exponent(money.Currency));

    public static string Format(Money money) =>
        IsSupported(money.Currency)
            ? ToMajor(money).ToString("N" + Exponent(money.Currency), System.Globalization.CultureInfo.InvariantCulture) + " " + money.Currency
            : money.Minor + " " + money.Currency;

    private static long Pow10(int exponent) => exponent switch { 0 => 1, 2 => 100, 3 => 1000, _ => (long)Math.Pow(10, exponent) };
}
