using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Infrastructure.Web;

/// <summary>
/// A field that failed a rule. Message is the English text and the key of its translation; pure rules
/// produce these without knowing about HTTP or languages, endpoints and pages localise them.
/// </summary>
public sealed record FieldError(string Field, string Message, params object[] Arguments);

public static class Problems
{
    /// <summary>
    /// Texts every feature shares (the text rules' errors among them) are translated once, in WebText; a feature's own
    /// translations come first.
    /// </summary>
    private static readonly IStringLocalizer s_shared = new ResourceManagerStringLocalizerFactory(
        Options.Create(new LocalizationOptions()), NullLoggerFactory.Instance).Create(typeof(WebText));

    /// <summary>400 with RFC 7807 problem details: every field error, in the request's language.</summary>
    public static ValidationProblem Validation(IEnumerable<FieldError> errors, IStringLocalizer text,
        string title = "Some fields need attention.") =>
        TypedResults.ValidationProblem(
            errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => Localize(text, e)).ToArray()),
            title: text[title]);

    /// <summary>A field error in the request's language: the feature's translation, else the shared one, else the English text.</summary>
    public static string Localize(IStringLocalizer text, FieldError error)
    {
        var own = text[error.Message, error.Arguments];
        return own.ResourceNotFound ? s_shared[error.Message, error.Arguments].Value : own.Value;
    }

    public static ProblemHttpResult Problem(int status, IStringLocalizer text, string title, string detail, params object[] arguments) =>
        TypedResults.Problem(statusCode: status, title: text[title], detail: text[detail, arguments]);

    public static void AddErrors(this ModelStateDictionary modelState, IEnumerable<FieldError> errors, IStringLocalizer text, string prefix = "")
    {
        foreach (var error in errors)
        {
            modelState.AddModelError(prefix.Length == 0 ? error.Field : $"{prefix}.{error.Field}", Localize(text, error));
        }
    }
}
