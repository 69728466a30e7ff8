using Crowd.Server.Features.Accounts;
using Hangfire;

namespace Crowd.Server.Infrastructure.Scheduling;

/// <summary>
/// Hangfire's dashboard at <see cref="Path"/>: admins only, through the platform's own sign-in and roles. Its inline styles
/// are allowed on its path alone, by the one content security policy (Infrastructure/Web/SecurityHeaders).
/// </summary>
public static class JobsDashboard
{
    public const string Path = "/admin/jobs";

    public static IEndpointConventionBuilder MapJobsDashboard(this IEndpointRouteBuilder app) =>
        app.MapHangfireDashboardWithAuthorizationPolicy(Roles.Admin, Path, new DashboardOptions
        {
            DashboardTitle = "Crowd jobs",
            AppPath = "/",
            DisplayStorageConnectionString = false,
        });
}
