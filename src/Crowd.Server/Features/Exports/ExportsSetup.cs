using Crowd.Server.Features.Exports.Contributor;
using Crowd.Server.Features.Exports.Datasets;
using Crowd.Server.Infrastructure.Scheduling;

namespace Crowd.Server.Features.Exports;

public static class ExportsSetup
{
    public static WebApplicationBuilder AddExports(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<ExportKeys>();
        services.AddScoped<DatasetExporter>();
        services.AddScoped<DatasetPackages>();
        services.AddScoped<DatasetSigningKeys>();
        services.AddScoped<DeletionFeed>();
        services.AddScoped<ContributorExports>();
        builder.AddScheduledJob<ContributorExportsJob>(ContributorExportsJob.Name, _ => "*/15 * * * *");
        builder.AddScheduledJob<DatasetPackagesJob>(DatasetPackagesJob.Name, _ => "*/15 * * * *");
        return builder;
    }

    public static RouteGroupBuilder MapExports(this IEndpointRouteBuilder app) => app.MapDatasets();
}

/// <summary>Texts of the exports feature. Translations in ExportsText.zh-Hans.resx.</summary>
public sealed class ExportsText;
