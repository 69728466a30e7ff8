using Crowd.Server.Features.Accounts;
using Hangfire;

namespace Crowd.Server.Infrastructure.Scheduling;

/// <summary>Hangfire's dashboard at <see cref="Path"/>: admins only, through the platform's own sign-in and roles.</summary>
public static class JobsDashboard
{
    public const string Path = "/admin/jobs";

    /// <summary>
    /// The dashboard loads its scripts and styles from its own path and runs no inline script, but colours job states
    /// with inline style attributes; this policy allows those, on the dashboard's path only.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static WebApplication MapJobsDashboard(this WebApplication app)
    {
        app.UseWhen(c => c.Request.Path.StartsWithSegments(Path), branch => branch.Use((context, next) =>
        {
            context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            return next(context);
        }));
        app.MapHangfireDashboardWithAuthorizationPolicy(Roles.Admin, Path, new DashboardOptions
        {
            DashboardTitle = "Crowd jobs",
            AppPath = "/",
            DisplayStorageConnectionString = false,
        });
        return app;
    }
}
