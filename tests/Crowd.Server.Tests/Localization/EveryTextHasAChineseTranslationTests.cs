using System.Text.RegularExpressions;
using System.Xml.Linq;
using Crowd.Server.Tests.Infrastructure;

namespace Crowd.Server.Tests.Localization;

/// <summary>
/// Many contributors read Chinese first: every text a page shows or an error says must exist in zh-Hans. This reads
/// the sources for the ways the project passes English keys to a localizer and checks each against the translations
/// of its feature folder (or the shared layout texts).
/// </summary>
public sealed partial class EveryTextHasAChineseTranslationTests
{
    private static readonly string s_serverRoot = Path.Combine(ServerProcess.RepositoryRoot, "src", "Crowd.Server");

    [Fact]
    public void EveryLocalizedTextInTheServerHasAChineseTranslation()
    {
        var shared = Keys(Path.Combine(s_serverRoot, "Infrastructure", "Web"));
        var missing = new List<string>();
        foreach (var file in Directory.EnumerateFiles(s_serverRoot, "*.*", SearchOption.AllDirectories)
                     .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".cshtml", StringComparison.Ordinal))
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                              && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var translations = FeatureKeys(Path.GetDirectoryName(file)!).Concat(shared).ToHashSet(StringComparer.Ordinal);
            var source = File.ReadAllText(file);
            foreach (var text in LocalizedLiterals(source))
            {
                if (!translations.Contains(text))
                {
                    missing.Add($"{Path.GetRelativePath(s_serverRoot, file)}: \"{text}\"");
                }
            }
        }

        missing.ShouldBeEmpty();
    }

    [Fact]
    public void TheCheckFindsTheKindsOfTextItLooksFor()
    {
        const string sample = """
            <h1>@T["Job board"]</h1>
            errors.Add(new("email", "Enter your email address."));
            errors.Add(new FieldError("rate", "The rate must be above {0}.", floor));
            return Problems.Problem(StatusCodes.Status401Unauthorized, text, "Sign-in failed", "The email address or password is wrong.");
            var title = text["Some fields need attention."];
            var clips = T.Plural(count, "{0} clip", "{0} clips");
            """;

        LocalizedLiterals(sample).ShouldBe(
            ["Job board", "Enter your email address.", "The rate must be above {0}.", "Sign-in failed",
             "The email address or password is wrong.", "Some fields need attention.", "{0} clip", "{0} clips"], ignoreOrder: true);
    }

    private static IEnumerable<string> LocalizedLiterals(string source)
    {
        foreach (Match m in IndexerPattern().Matches(source))
        {
            yield return Unescape(m.Groups[1].Value);
        }
        foreach (Match m in FieldErrorPattern().Matches(source))
        {
            yield return Unescape(m.Groups[1].Value);
        }
        foreach (Match m in ProblemPattern().Matches(source))
        {
            yield return Unescape(m.Groups[1].Value);
            yield return Unescape(m.Groups[2].Value);
        }
        foreach (Match m in PluralPattern().Matches(source))
        {
            yield return Unescape(m.Groups[1].Value);
            yield return Unescape(m.Groups[2].Value);
        }
    }

    /// <summary>A feature's sub-folders share its texts: the translations of the folder and of every folder above it up to Features/.</summary>
    private static IEnumerable<string> FeatureKeys(string directory)
    {
        var features = Path.Combine(s_serverRoot, "Features");
        for (var dir = directory; dir.StartsWith(features, StringComparison.Ordinal); dir = Path.GetDirectoryName(dir)!)
        {
            foreach (var key in Keys(dir))
            {
                yield return key;
            }
        }
        foreach (var key in Keys(directory))
        {
            yield return key;
        }
    }

    private static IEnumerable<string> Keys(string directory) =>
        Directory.EnumerateFiles(directory, "*.zh-Hans.resx")
            .SelectMany(f => XDocument.Load(f).Root!.Elements("data").Select(d => (string)d.Attribute("name")!));

    private static string Unescape(string literal) => literal.Replace("\\\"", "\"", StringComparison.Ordinal);

    // T["…"], text["…"], Text["…"], L["…"] — the names the project gives its localizers.
    [GeneratedRegex(""""\b(?:T|L|text|Text)\["((?:[^"\\]|\\.)+)(?=")"""")]
    private static partial Regex IndexerPattern();

    // new("field", "Message" …) and new FieldError("field", "Message" …); a message is words, which tells it from key-value pairs.
    [GeneratedRegex(""""new(?:\s+FieldError)?\(\s*"[A-Za-z0-9_.\[\]]+",\s*"((?=[^"]*\s)(?:[^"\\]|\\.)+)(?=")"""")]
    private static partial Regex FieldErrorPattern();

    // Problems.Problem(status, localizer, "Title", "Detail" …)
    [GeneratedRegex(""""Problems\.Problem\([^,]+,\s*\w+,\s*"((?:[^"\\]|\\.)+)",\s*"((?:[^"\\]|\\.)+)(?=")"""")]
    private static partial Regex ProblemPattern();

    // T.Plural(count, "One", "Other" …): both forms are texts.
    [GeneratedRegex(""""\.Plural\([^,]+,\s*"((?:[^"\\]|\\.)+)",\s*"((?:[^"\\]|\\.)+)(?=")"""")]
    private static partial Regex PluralPattern();
}
