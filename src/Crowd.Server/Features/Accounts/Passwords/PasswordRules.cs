using System.Text;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Identity;

namespace Crowd.Server.Features.Accounts.Passwords;

/// <summary>
/// What a new password must be (NIST SP 800-63B): long, and not one that attackers try first. Length and a list of
/// common and breached passwords, no composition rules: "Tr0ub4dor&amp;3" is weaker than four unrelated words. Pure.
/// </summary>
public static class PasswordRules
{
    public const int MinLength = 12;
    public const int MaxLength = 128;
    public const int MinDistinctCharacters = 4;

    /// <summary>The shipped list: lower-case common passwords and the roots people build them from.</summary>
    public static readonly IReadOnlySet<string> Common = Load();

    /// <param name="context">Words of this account that must not be the password: its email address, name, organisation.</param>
    public static List<FieldError> Validate(string? password, IEnumerable<string?> context)
    {
        if (string.IsNullOrEmpty(password) || password.Length < MinLength)
        {
            return [new("password", "Choose a password of at least {0} characters.", MinLength)];
        }
        if (password.Length > MaxLength)
        {
            return [new("password", "Keep the password to {0} characters or fewer.", MaxLength)];
        }
        if (password.Distinct().Count() < MinDistinctCharacters)
        {
            return [new("password", "Use more different characters in the password.")];
        }
        if (IsRepetitiveOrSequential(password))
        {
            return [new("password", "This password is a repeated or counted sequence. Choose a few unrelated words instead.")];
        }
        var forms = Forms(password).ToList();
        if (forms.Any(IsCommon))
        {
            return [new("password", "This password is on the list of common and leaked passwords that attackers try first. Choose a few unrelated words instead.")];
        }
        var personal = context.Where(c => !string.IsNullOrWhiteSpace(c)).SelectMany(Words).Append("crowd").ToHashSet(StringComparer.Ordinal);
        if (forms.Any(personal.Contains))
        {
            return [new("password", "The password must not be your email address, your name or the name of this site.")];
        }
        return [];
    }

    /// <summary>
    /// The ways one password can match an entry: as typed, without spaces, and with the digits and symbols people add at
    /// either end stripped off ("Sunshine2024!" → "sunshine"), each also with common letter substitutions undone ("p@ssw0rd").
    /// </summary>
    internal static IEnumerable<string> Forms(string password)
    {
        var lower = password.ToLowerInvariant().Replace(" ", "", StringComparison.Ordinal);
        var core = lower.Trim(Decoration);
        foreach (var form in new[] { lower, core })
        {
            if (form.Length > 0)
            {
                yield return form;
                yield return Unleet(form);
                // "passwordpassword", "monkeymonkey"
                if (RepeatedUnit(form) is { } unit)
                {
                    yield return unit;
                    yield return Unleet(unit);
                }
            }
        }
    }

    private static readonly char[] Decoration = "0123456789!@#$%^&*()-_=+[]{};:'\",.<>/?\\|`~".ToCharArray();

    private static bool IsCommon(string form) => Common.Contains(form);

    private static string Unleet(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '@' or '4' => 'a',
                '0' => 'o',
                '1' or '!' => 'i',
                '3' => 'e',
                '$' or '5' => 's',
                '7' => 't',
                _ => c,
            });
        }
        return builder.ToString();
    }

    private static string? RepeatedUnit(string text)
    {
        for (var length = 1; length <= text.Length / 2; length++)
        {
            if (text.Length % length == 0 && string.Concat(Enumerable.Repeat(text[..length], text.Length / length)) == text)
            {
                return text[..length];
            }
        }
        return null;
    }

    /// <summary>"aaaaaaaaaaaa", "abcabcabcabc", "abcdefghijkl", "987654321098".</summary>
    internal static bool IsRepetitiveOrSequential(string password)
    {
        var lower = password.ToLowerInvariant();
        if (RepeatedUnit(lower) is { Length: <= 4 })
        {
            return true;
        }
        var ascending = true;
        var descending = true;
        for (var i = 1; i < lower.Length; i++)
        {
            var step = lower[i] - lower[i - 1];
            ascending &= step == 1 || (lower[i] == '0' && lower[i - 1] == '9');
            descending &= step == -1 || (lower[i] == '9' && lower[i - 1] == '0');
        }
        return ascending || descending;
    }

    private static IEnumerable<string> Words(string? value)
    {
        var lower = value!.Trim().ToLowerInvariant();
        var at = lower.IndexOf('@', StringComparison.Ordinal);
        if (at > 0)
        {
            yield return lower.Replace(" ", "", StringComparison.Ordinal);
            lower = lower[..at];
        }
        yield return lower.Replace(" ", "", StringComparison.Ordinal);
    }

    private static HashSet<string> Load()
    {
        using var stream = typeof(PasswordRules).Assembly.GetManifestResourceStream("Crowd.Server.common-passwords.txt")
            ?? throw new InvalidOperationException("The common-password list is missing from the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var entries = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && line[0] != '#')
            {
                entries.Add(line.Trim());
            }
        }
        return entries;
    }
}

/// <summary>Applies <see cref="PasswordRules"/> wherever Identity sets a password (sign-up, the admin seed, later changes).</summary>
public sealed class CommonPasswordValidator : IPasswordValidator<CrowdUser>
{
    public const string Code = "PasswordRules";

    public Task<IdentityResult> ValidateAsync(UserManager<CrowdUser> manager, CrowdUser user, string? password)
    {
        var errors = PasswordRules.Validate(password, [user.Email, user.DisplayName]);
        return Task.FromResult(errors.Count == 0
            ? IdentityResult.Success
            : IdentityResult.Failed(errors.Select(e => new IdentityError
            {
                Code = Code,
                Description = string.Format(System.Globalization.CultureInfo.InvariantCulture, e.Message, e.Arguments),
            }).ToArray()));
    }
}
