using System.Security.Cryptography;

namespace Crowd.Server.Features.Escrow;

public enum PaymentReferenceCheck
{
    Valid,
    /// <summary>Not the shape of a payment reference: wrong length, or characters a reference never has.</summary>
    Malformed,
    /// <summary>The shape is right but the check character does not match: a character was mistyped or two swapped.</summary>
    Mistyped,
}

/// <summary>
/// The reference a requester writes in a bank transfer's remark so that the money can be matched to one job, like
/// <c>CW-7K3M-9Q2R</c>: seven random characters and a check character, in Crockford's base 32 (digits and capital letters
/// without I, L, O and U, so nothing reads as anything else). The check is Luhn's algorithm modulo 32, which catches every
/// single mistyped character and every swap of two neighbours but 0 and Z (as Luhn's decimal check misses 09 and 90).
/// Reading is forgiving: any case, spaces and dashes anywhere, with or without the CW prefix, and O, I, L read as 0, 1, 1.
/// </summary>
public static class PaymentReference
{
    public const string Prefix = "CW";
    public const int MaxLength = 12;

    /// <summary>The field people type it into: reading is forgiving of spaces, dashes and a pasted remark around it.</summary>
    public const int MaxTypedLength = 40;
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    private const int PayloadLength = 7;

    public static string New()
    {
        Span<char> payload = stackalloc char[PayloadLength];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }
        return Format(new string(payload) + CheckCharacter(payload));
    }

    /// <summary>Reads what a person typed; on success the reference in its one written form, <c>CW-XXXX-XXXX</c>.</summary>
    public static (PaymentReferenceCheck Check, string? Reference) Parse(string? typed)
    {
        var symbols = new List<char>(12);
        foreach (var c in (typed ?? "").ToUpperInvariant())
        {
            if (c is ' ' or '-' or '.' or '\t')
            {
                continue;
            }
            symbols.Add(c);
        }
        if (symbols.Count == PayloadLength + 1 + Prefix.Length && symbols[0] == Prefix[0] && symbols[1] == Prefix[1])
        {
            symbols.RemoveRange(0, Prefix.Length);
        }
        if (symbols.Count != PayloadLength + 1)
        {
            return (PaymentReferenceCheck.Malformed, null);
        }
        var canonical = new char[symbols.Count];
        for (var i = 0; i < symbols.Count; i++)
        {
            var c = symbols[i] switch { 'O' => '0', 'I' or 'L' => '1', var other => other };
            if (!Alphabet.Contains(c, StringComparison.Ordinal))
            {
                return (PaymentReferenceCheck.Malformed, null);
            }
            canonical[i] = c;
        }
        return CheckCharacter(canonical.AsSpan(0, PayloadLength)) == canonical[PayloadLength]
            ? (PaymentReferenceCheck.Valid, Format(new string(canonical)))
            : (PaymentReferenceCheck.Mistyped, null);
    }

    // Luhn mod N: from the right, every other value doubled and its two base-N digits added.
    private static char CheckCharacter(ReadOnlySpan<char> payload)
    {
        var n = Alphabet.Length;
        var sum = 0;
        var doubled = true;
        for (var i = payload.Length - 1; i >= 0; i--)
        {
            var addend = Alphabet.IndexOf(payload[i], StringComparison.Ordinal) * (doubled ? 2 : 1);
            sum += addend / n + addend % n;
            doubled = !doubled;
        }
        return Alphabet[(n - sum % n) % n];
    }

    private static string Format(string symbols) => $"{Prefix}-{symbols[..4]}-{symbols[4..]}";
}
