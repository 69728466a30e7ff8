using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Web;

namespace Crowd.Server.Features.Accounts.Profile;

/// <summary>What a profile form sends: every field as typed, so a refused form can be shown again unchanged.</summary>
public sealed record ProfileForm(string? Region, string? Language, string? Accent, string? Languages, string? Gender, string? AgeBand);

/// <summary>An age band: <see cref="From"/> to <see cref="To"/> years inclusive, or from <see cref="From"/> up when To is null.</summary>
public readonly record struct AgeBand(int From, int? To);

/// <summary>What a contributor's profile must satisfy, with no HTTP or database in it.</summary>
public static class ProfileRules
{
    public const int MaxLanguages = 10;
    public const int MaxCodeLength = 20;

    /// <summary>The languages field as typed: room for the most languages with their separators and spaces.</summary>
    public const int MaxLanguagesInputLength = 400;
    public const string PreferNotToSay = "prefer-not-to-say";
    public const string ShareAgeBand = "share";

    /// <summary>The gender answers, in the order the form offers them.</summary>
    public static readonly string[] Genders = ["woman", "man", "non-binary", PreferNotToSay];

    public static readonly string[] AgeBandChoices = [ShareAgeBand, PreferNotToSay];

    private static readonly int[] s_bandStarts = [14, 18, 25, 35, 45, 55, 65];

    /// <summary>The band an age falls in: under 14, 14–17, 18–24, then by ten years to 65 and older.</summary>
    public static AgeBand BandOf(int age)
    {
        if (age < s_bandStarts[0])
        {
            return new AgeBand(0, s_bandStarts[0] - 1);
        }
        var start = s_bandStarts.Last(s => s <= age);
        var next = Array.IndexOf(s_bandStarts, start) + 1;
        return new AgeBand(start, next < s_bandStarts.Length ? s_bandStarts[next] - 1 : null);
    }

    /// <summary>Language tags as people type lists: separated by commas (also Chinese ones), semicolons or spaces.</summary>
    public static string[] SplitLanguages(string? text) =>
        (text ?? "").Split([',', ';', '，', '、', '；', ' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// The other languages to keep: each tag once (tags compare without regard to case), without the native language,
    /// in the order given; or the problems with the list.
    /// </summary>
    public static (string[] Languages, List<FieldError> Errors) Languages(string? text, string? nativeLanguage)
    {
        var errors = new List<FieldError>();
        var tags = SplitLanguages(text);
        // The first wrong entry is enough to act on; a pasted paragraph must not produce a page of errors.
        if (tags.FirstOrDefault(t => !JobRules.IsLanguageTag(t)) is { } wrong)
        {
            errors.Add(new("languages", "\"{0}\" is not a language tag. List tags like en, ja or yue, separated by commas.", wrong));
        }
        var kept = tags.Where(JobRules.IsLanguageTag)
            .Where(t => !string.Equals(t, nativeLanguage?.Trim(), StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        if (kept.Length > MaxLanguages)
        {
            errors.Add(new("languages", "List at most {0} other languages (the list has {1}).", MaxLanguages, kept.Length));
        }
        return (kept, errors);
    }

    /// <summary>The region must be one the rate floors know, so that the board can compare pay with its floor.</summary>
    public static List<FieldError> Validate(ProfileForm form, IReadOnlySet<string> knownRegions)
    {
        var errors = new List<FieldError>();
        if (!string.IsNullOrEmpty(form.Region) && !knownRegions.Contains(form.Region))
        {
            errors.Add(new("region", "Choose your region from the list. If it is missing, choose \"Not stated\" for now: the board then shows each job's pay without a comparison."));
        }
        if (!string.IsNullOrEmpty(form.Gender) && !Genders.Contains(form.Gender))
        {
            errors.Add(new("gender", "Choose one of the answers offered for gender, or leave it unanswered."));
        }
        if (!string.IsNullOrEmpty(form.AgeBand) && !AgeBandChoices.Contains(form.AgeBand))
        {
            errors.Add(new("ageBand", "Choose one of the answers offered for your age group, or leave it unanswered."));
        }
        return errors;
    }
}
