using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Infrastructure.Mail;

public static class MailSetup
{
    /// <summary>The outbox always; the SMTP sender only when Crowd:Mail:Smtp:Host is set.</summary>
    public static WebApplicationBuilder AddCrowdMail(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<MailSignal>();
        builder.Services.AddScoped<Outbox>();
        builder.Services.AddScoped<MailDelivery>();
        builder.Services.AddSingleton<IMailTransport, SmtpTransport>();
        if (!string.IsNullOrWhiteSpace(builder.Configuration[$"{CrowdOptions.Section}:Mail:Smtp:Host"]))
        {
            builder.Services.AddHostedService<MailSender>();
        }
        return builder;
    }

    /// <summary>The outbox's part of the EF model; it mirrors Migrations/0032_mail_outbox.sql.</summary>
    internal static void MapMail(this ModelBuilder builder) =>
        builder.Entity<OutboxMail>(e =>
        {
            e.ToTable("mail_outbox");
            e.Property(m => m.ToAddress).HasMaxLength(320);
            e.Property(m => m.Subject).HasMaxLength(Outbox.MaxSubjectLength);
            e.Property(m => m.Error).HasMaxLength(2000);
            e.HasIndex(m => m.CreatedAt).HasFilter("sent_at IS NULL");
            e.HasIndex(m => m.ToAddress);
        });
}
