using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Web;

namespace Crowd.Server.Features.Accounts.Speech;

/// <summary>What a speaker's description of their speech must satisfy, and how it is grouped. Pure.</summary>
public static class SpeakerProfileRules
{
    public const int MaxLanguageLength = JobRules.MaxLanguageLength;
    public const int MaxAccentLength = 60;

    /// <summary>Trims and collapses white space, so that "Beijing  " and "Beijing" are one group.</summary>
    public static string Normalise(string? text) => string.Join(' ', (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>The language and accent as they are kept (trimmed, white space collapsed), and what is wrong with them.</summary>
    public static (string Language, string Accent, List<FieldError> Errors) Prepare(string? language, string? accent)
    {
        var (tag, described) = ((language ?? "").Trim(), Normalise(accent));
        var errors = Validate(tag, described);
        if (TextRules.Check("accent", accent, TextKind.Line) is { } text && errors.All(e => e.Field != "accent"))
        {
            errors.Add(text);
        }
        return (tag, described, errors);
    }

    public static List<FieldError> Validate(string language, string accent)
    {
        var errors = new List<FieldError>();
        if (!JobRules.IsLanguageTag(language))
        {
            errors.Add(new("language", "Use a language tag like zh-CN, yue or en (letters, digits and hyphens, at most {0} characters).", MaxLanguageLength));
        }
        if (accent.Length > MaxAccentLength)
        {
            errors.Add(new("accent", "Describe your accent or dialect in at most {0} characters (it has {1}).", MaxAccentLength, accent.Length));
        }
        return errors;
    }
}
