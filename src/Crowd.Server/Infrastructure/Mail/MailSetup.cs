using Crowd.Server.Infrastructure.Scheduling;

namespace Crowd.Server.Infrastructure.Mail;

public static class MailSetup
{
    /// <summary>The outbox always; mail is sent (by background jobs) only when Crowd:Mail:Smtp:Host is set.</summary>
    public static WebApplicationBuilder AddMail(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<Outbox>();
        builder.Services.AddScoped<MailDelivery>();
        builder.Services.AddSingleton<IMailTransport, SmtpTransport>();
        builder.AddScheduledJob<MailSweepJob>(MailSweepJob.Name, _ => "*/5 * * * *");
        return builder;
    }
}
