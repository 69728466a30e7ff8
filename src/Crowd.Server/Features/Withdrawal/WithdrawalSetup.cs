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
        services.AddSingleton<WebhookNetwork>();
        services.AddHttpClient(WebhookSender.HttpClientName, (sp, http) =>
                http.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<CrowdOptions>>().Value.Webhooks.TimeoutSeconds))
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                // A webhook answers where it was configured; following a redirect could send notices somewhere nobody chose.
                AllowAutoRedirect = false,
                // Through a proxy the connection would go to the proxy, and the address checks with it.
                UseProxy = false,
                ConnectCallback = sp.GetRequiredService<WebhookNetwork>().ConnectAsync,
            });

        builder.AddScheduledJob<RetentionJob>(RetentionJob.Name, o => o.Retention.Cron);
        builder.AddScheduledJob<WebhookSweepJob>(WebhookSweepJob.Name, _ => "*/5 * * * *");
        builder.AddScheduledJob<DeletionNoticeRemindersJob>(DeletionNoticeRemindersJob.Name, _ => DeletionNoticeRemindersJob.Cron);
        return builder;
    }
}
