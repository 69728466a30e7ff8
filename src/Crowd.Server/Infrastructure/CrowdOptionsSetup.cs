using System.Collections;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Infrastructure;

/// <summary>
/// The one reader of configuration: binds <see cref="CrowdOptions"/> (the "Crowd" section and the connection strings)
/// and checks every section's annotations when the host starts, so a bad setting stops start-up with its name instead of
/// being clamped or misread where it is used.
/// </summary>
public static class CrowdOptionsSetup
{
    public static WebApplicationBuilder AddSettings(this WebApplicationBuilder builder)
    {
        var production = builder.Environment.IsProduction();
        var configuration = builder.Configuration;
        builder.Services.AddSingleton<IValidateOptions<CrowdOptions>, CrowdOptionsValidator>();
        builder.Services.AddOptions<CrowdOptions>()
            .Bind(configuration.GetSection(CrowdOptions.Section))
            .Configure(o => configuration.GetSection(ConnectionStringOptions.Section).Bind(o.ConnectionStrings))
            .PostConfigure(o => o.PublicUrl ??= production ? null : CrowdOptions.DevelopmentPublicUrl)
            .Validate(o => o.PublicUrl is not null,
                "Crowd:PublicUrl (environment Crowd__PublicUrl) must be set in Production to the address people reach Crowd at, like https://crowd.example.org: links in mail are built from it.")
            .Validate(o => o.PublicUrl is null || (o.PublicUrl.IsAbsoluteUri && o.PublicUrl.Scheme is "https" or "http" && o.PublicUrl.Query.Length == 0 && o.PublicUrl.Fragment.Length == 0),
                "Crowd:PublicUrl must be an absolute http or https address without query or fragment, like https://crowd.example.org.")
            .ValidateOnStart();
        return builder;
    }

    /// <summary>
    /// The settings as configured, for the few choices made while the host is still being built (the silo's clustering);
    /// everything else takes <c>IOptions&lt;CrowdOptions&gt;</c>.
    /// </summary>
    public static CrowdOptions CrowdOptionsBeforeStart(this WebApplicationBuilder builder) =>
        builder.Configuration.GetSection(CrowdOptions.Section).Get<CrowdOptions>() ?? new CrowdOptions();
}

/// <summary>
/// Validates every section of <see cref="CrowdOptions"/> by its data annotations, naming each failure by its setting
/// (Crowd:Payouts:MinimumMinor), the name an operator sets it under.
/// </summary>
public sealed class CrowdOptionsValidator : IValidateOptions<CrowdOptions>
{
    public ValidateOptionsResult Validate(string? name, CrowdOptions options)
    {
        var failures = new List<string>();
        Collect(options, CrowdOptions.Section, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Collect(object section, string path, List<string> failures)
    {
        foreach (var property in section.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!property.CanWrite || property.GetIndexParameters().Length > 0)
            {
                continue;
            }
            var value = property.GetValue(section);
            var setting = property.Name == nameof(CrowdOptions.ConnectionStrings) && section is CrowdOptions
                ? ConnectionStringOptions.Section
                : $"{path}:{property.Name}";
            var context = new ValidationContext(section) { MemberName = property.Name, DisplayName = setting };
            foreach (var attribute in property.GetCustomAttributes<ValidationAttribute>())
            {
                if (attribute.GetValidationResult(value, context) is { ErrorMessage: { } message })
                {
                    failures.Add(message);
                }
            }
            if (value is not null and not string and not IEnumerable && IsSection(property.PropertyType))
            {
                Collect(value, setting, failures);
            }
        }
    }

    private static bool IsSection(Type type) =>
        type.IsClass && type.Namespace == typeof(CrowdOptions).Namespace && type.Name.EndsWith("Options", StringComparison.Ordinal);
}
