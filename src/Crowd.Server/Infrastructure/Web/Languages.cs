using System.Globalization;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Infrastructure.Web;

/// <summary>The two things every feature's texts need beyond a plain lookup: plurals, and writing in a reader's language.</summary>
public static class Languages
{
    /// <summary>
    /// The text for a count: <paramref name="one"/> for exactly 1, <paramref name="other"/> otherwise (English's rule), with the
    /// count as {0} and <paramref name="more"/> after it. Chinese has one form; its translations of both keys say the same.
    /// Both keys are English texts with translations, like any other.
    /// </summary>
    public static LocalizedString Plural(this IStringLocalizer text, long count, string one, string other, params object[] more) =>
        text[count == 1 ? one : other, [count.ToString("N0", CultureInfo.InvariantCulture), .. more]];

    /// <summary>
    /// Writes in a reader's language (a mail, a notification pushed to them) whatever the language of the request or job
    /// that causes it; disposing the scope restores the language before.
    /// </summary>
    public static IDisposable InCulture(string? culture)
    {
        var before = CultureInfo.CurrentUICulture;
        CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo(culture == "zh-Hans" ? "zh-Hans" : "en");
        return new Restore(before);
    }

    private sealed class Restore(CultureInfo before) : IDisposable
    {
        public void Dispose() => CultureInfo.CurrentUICulture = before;
    }
}
