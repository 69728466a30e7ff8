using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Scheduling;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Suppliers;

public static class SuppliersApi
{
    private static readonly HashSet<string> s_statsFilters = new(StringComparer.OrdinalIgnoreCase) { "jobId", "month", "currency" };
    private static readonly HashSet<string> s_signupsFilters = new(StringComparer.OrdinalIgnoreCase) { "month" };

    public static WebApplicationBuilder AddSuppliers(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddScoped<SupplierAttributions>();
        services.AddScoped<SupplierStats>();
        services.AddScoped<SupplierNotices>();
        services.AddScoped<CoercionReports>();
        builder.AddScheduledJob<MonthlyFiguresJob>(MonthlyFiguresJob.Name, _ => MonthlyFiguresJob.Cron);
        return builder;
    }

    public static RouteGroupBuilder MapSuppliers(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/supplier").WithTags("Suppliers")
            .RequireAuthorization(Roles.Supplier)
            .RequireRateLimiting(WebSetup.ApiLimit);

        group.MapGet("/stats", GetStatsAsync)
            .WithSummary("Aggregates over the supplier's attributed contributors: a closed month (yyyy-MM) or all time, all jobs or one job.");
        group.MapGet("/signups", GetSignupsAsync)
            .WithSummary("How many contributors said yes to the supplier's attribution in a closed month, or in all published months.");
        return group;
    }

    private static async Task<Results<Ok<SupplierStatsResponse>, ValidationProblem, ProblemHttpResult>> GetStatsAsync(HttpContext context,
        Guid? jobId, string? month, string? currency, SupplierStats stats, IStringLocalizer<SuppliersText> text, CancellationToken ct)
    {
        if (UnknownFilters(context, s_statsFilters) is { } unknown)
        {
            return Problems.Validation([unknown], text);
        }
        var answer = await stats.CellAsync(context.User.OrganisationIdOrNull()!.Value, jobId, month, currency, ct);
        return answer.Value is { } value ? TypedResults.Ok(value) : Refused<SupplierStatsResponse>(answer.Refusal, answer.Error, text);
    }

    private static async Task<Results<Ok<SignupsResponse>, ValidationProblem, ProblemHttpResult>> GetSignupsAsync(HttpContext context,
        string? month, SupplierStats stats, IStringLocalizer<SuppliersText> text, CancellationToken ct)
    {
        if (UnknownFilters(context, s_signupsFilters) is { } unknown)
        {
            return Problems.Validation([unknown], text);
        }
        var answer = await stats.SignupsAsync(context.User.OrganisationIdOrNull()!.Value, month, ct);
        return answer.Value is { } value ? TypedResults.Ok(value) : Refused<SignupsResponse>(answer.Refusal, answer.Error, text);
    }

    /// <summary>A filter the API does not offer is refused, not ignored: ignoring it would answer a different question than was asked.</summary>
    private static FieldError? UnknownFilters(HttpContext context, HashSet<string> allowed) =>
        context.Request.Query.Keys.FirstOrDefault(k => !allowed.Contains(k)) is { } key
            ? new FieldError(key, "Figures can be asked for only by job, by whole closed month and by currency; \"{0}\" is not one of them.", key)
            : null;

    private static Results<Ok<T>, ValidationProblem, ProblemHttpResult> Refused<T>(StatsRefusal refusal, FieldError? error, IStringLocalizer text) =>
        refusal switch
        {
            StatsRefusal.Invalid => Problems.Validation([error!], text),
            StatsRefusal.SupplierSuspended => Problems.Problem(StatusCodes.Status403Forbidden, text, "Your organisation is suspended",
                "After a report, an admin suspended your organisation: it sees no figures and its invitations do not work until it is reinstated."),
            _ => Problems.Problem(StatusCodes.Status403Forbidden, text, "This figure is hidden to protect privacy",
                "It would be built from fewer than {0} people, or it could be set against another figure to reveal fewer than {0} people. Suppliers only see figures over at least {0} contributors, never anyone's own.",
                CellSuppression.MinPeople),
        };
}
