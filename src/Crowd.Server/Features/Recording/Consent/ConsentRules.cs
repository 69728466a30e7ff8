using System.Text;

namespace Crowd.Server.Features.Recording.Consent;

public enum AgeGroup
{
    /// <summary>18 or over: consents for themselves.</summary>
    Adult,
    /// <summary>14 to 17: a guardian must consent as well.</summary>
    Minor,
    /// <summary>Under 14: refused unless a guardian consents.</summary>
    Child,
}

/// <summary>The age and signature rules of consent. Pure: no clock, no database.</summary>
public static class ConsentRules
{
    public const int AdultAge = 18;
    public const int ChildBelow = 14;
    public const int MaxSignatureLength = 200;

    /// <summary>
    /// Whole years lived on <paramref name="today"/>. Someone born on 29 February reaches their birthday on 1 March in
    /// common years: for consent, the later day is the safe one.
    /// </summary>
    public static int AgeOn(DateOnly dateOfBirth, DateOnly today)
    {
        var age = today.Year - dateOfBirth.Year;
        var birthdayThisYear = dateOfBirth.Month == 2 && dateOfBirth.Day == 29 && !DateTime.IsLeapYear(today.Year)
            ? new DateOnly(today.Year, 3, 1)
            : new DateOnly(today.Year, dateOfBirth.Month, dateOfBirth.Day);
        return today < birthdayThisYear ? age - 1 : age;
    }

    public static AgeGroup GroupOn(DateOnly dateOfBirth, DateOnly today) => AgeOn(dateOfBirth, today) switch
    {
        >= AdultAge => AgeGroup.Adult,
        >= ChildBelow => AgeGroup.Minor,
        _ => AgeGroup.Child,
    };

    /// <summary>
    /// Whether a typed signature is the account's name: compared without regard to case, surrounding or repeated
    /// white space, or Unicode form (full-width letters and spaces from a Chinese keyboard match their plain forms).
    /// </summary>
    public static bool SignatureMatches(string? typed, string accountName)
    {
        var signed = Canonical(typed);
        return signed.Length > 0 && string.Equals(signed, Canonical(accountName), StringComparison.Ordinal);
    }

    /// <summary>The form a signature is compared in: NFKC, white space collapsed to single spaces, trimmed, upper-cased invariantly.</summary>
    public static string Canonical(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "";
        }
        var normalised = text.Normalize(NormalizationForm.FormKC);
        var result = new StringBuilder(normalised.Length);
        var space = false;
        foreach (var c in normalised)
        {
            if (char.IsWhiteSpace(c))
            {
                space = result.Length > 0;
                continue;
            }
            if (space)
            {
                result.Append(' ');
                space = false;
            }
            result.Append(c);
        }
        return result.ToString().ToUpperInvariant();
    }
}
