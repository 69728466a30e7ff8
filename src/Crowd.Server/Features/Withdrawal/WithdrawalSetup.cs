using Crowd.Server.Features.DeletionNotices;
using Crowd.Server.Features.Retention;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Scheduling;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Withdrawal;

public static class WithdrawalSetup
{
    /// <summary>Withdrawal, the crypto-shredding path it shares with retention, deletion notices and their webhook sender.</summary>
    public static WebApplicationBuilder AddCrowdWithdrawal(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddScoped<ClipDestruction>();
        services.AddScoped<ClipFiles>();
        services.AddScoped<WithdrawalService>();
        services.AddScoped<DeletionNoticeWriter>();
        services.AddScoped<DeletionNoticeService>();
        services.AddScoped<DeletionNoticeReminders>();
        services.AddScoped<WebhookSender>();
        services.AddScoped<RetentionService>();
        services.AddHostedService<WebhookWorker>();
        services.AddHttpClient(WebhookSender.HttpClientName, (sp, http) =>
                http.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<CrowdOptions>>().Value.Webhooks.TimeoutSeconds))
            // A webhook answers where it was configured; following a redirect could send notices somewhere nobody chose.
            .ConfigurePrimaryHttpMessageHandler(() => new HttpClientHandler { AllowAutoRedirect = false });

        var retention = builder.Configuration.GetSection(CrowdOptions.Section).Get<CrowdOptions>()?.Retention ?? new RetentionOptions();
        builder.AddScheduledJob<RetentionJob>(RetentionJob.Name, retention.Cron);
        return builder;
    }
}
