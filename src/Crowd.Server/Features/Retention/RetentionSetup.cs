using Crowd.Server.Infrastructure.Scheduling;

namespace Crowd.Server.Features.Retention;

public static class RetentionSetup
{
    public static WebApplicationBuilder AddRetention(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<RetentionService>();
        builder.AddScheduledJob<RetentionJob>(RetentionJob.Name, o => o.Retention.Cron);
        return builder;
    }
}
