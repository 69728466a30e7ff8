using Crowd.Server.Infrastructure.Scheduling;
using Microsoft.EntityFrameworkCore;

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
