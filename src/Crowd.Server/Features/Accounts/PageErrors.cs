using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Crowd.Server.Features.Accounts;

/// <summary>Reads a form's errors back by the field names the rules use ("email", "dateOfBirth"), for inline messages.</summary>
public static class PageErrors
{
    public static IEnumerable<(string Field, string Message)> All(this ModelStateDictionary modelState) =>
        modelState.SelectMany(entry => entry.Value!.Errors.Select(error => (entry.Key, error.ErrorMessage)));

    public static string? ErrorFor(this ModelStateDictionary modelState, string field)
    {
        var messages = modelState
            .Where(entry => string.Equals(entry.Key, field, StringComparison.OrdinalIgnoreCase))
            .SelectMany(entry => entry.Value!.Errors.Select(e => e.ErrorMessage))
            .ToList();
        return messages.Count == 0 ? null : string.Join(" ", messages);
    }
}
