using System.Net;
using System.Net.Mail;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Infrastructure.Mail;

/// <summary>Hands one mail to a mail server.</summary>
public interface IMailTransport
{
    Task SendAsync(OutboxMail mail, CancellationToken ct);
}

public sealed class SmtpTransport(IOptions<CrowdOptions> options) : IMailTransport
{
    public async Task SendAsync(OutboxMail mail, CancellationToken ct)
    {
        var smtp = options.Value.Mail.Smtp;
        using var client = new SmtpClient(smtp.Host, smtp.Port) { EnableSsl = smtp.EnableSsl };
        if (!string.IsNullOrEmpty(smtp.UserName))
        {
            client.Credentials = new NetworkCredential(smtp.UserName, smtp.Password);
        }
        using var message = new MailMessage(options.Value.Mail.From, mail.ToAddress, mail.Subject, mail.Body);
        message.BodyEncoding = System.Text.Encoding.UTF8;
        message.SubjectEncoding = System.Text.Encoding.UTF8;
        await client.SendMailAsync(message, ct);
    }
}

/// <summary>
/// Delivers queued mail. Each batch is claimed with SKIP LOCKED, so several nodes never send the same mail; a failed
/// mail keeps its error and is tried again later, up to <see cref="MaxAttempts"/> times.
/// </summary>
public sealed class MailDelivery(CrowdDb db, IMailTransport transport, TimeProvider clock, ILogger<MailDelivery> logger)
{
    public const int MaxAttempts = 5;
    private const int Batch = 20;

    /// <summary>Sends what is due; returns how many mails were sent.</summary>
    public async Task<int> SendDueAsync(CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var due = await db.Set<OutboxMail>().FromSqlInterpolated($"""
            SELECT * FROM mail_outbox WHERE sent_at IS NULL AND attempts < {MaxAttempts}
            ORDER BY created_at LIMIT {Batch} FOR UPDATE SKIP LOCKED
            """).ToListAsync(ct);
        var sent = 0;
        foreach (var mail in due)
        {
            mail.Attempts++;
            try
            {
                await transport.SendAsync(mail, ct);
                mail.SentAt = clock.GetUtcNow();
                mail.Error = null;
                sent++;
            }
            catch (Exception e) when (e is SmtpException or InvalidOperationException or IOException or FormatException)
            {
                logger.LogWarning(e, "Mail {MailId} could not be sent (attempt {Attempt})", mail.Id, mail.Attempts);
                mail.Error = e.Message.Length > 2000 ? e.Message[..2000] : e.Message;
            }
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return sent;
    }
}

/// <summary>Runs <see cref="MailDelivery"/> when SMTP is configured: soon after each queued mail, and every poll interval.</summary>
public sealed class MailSender(IServiceScopeFactory scopes, MailSignal signal, IOptions<CrowdOptions> options, ILogger<MailSender> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromSeconds(Math.Max(1, options.Value.Mail.PollSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await signal.WaitAsync(poll, stoppingToken);
                // The mail is queued inside its sender's transaction; give that a moment to commit.
                await Task.Delay(TimeSpan.FromMilliseconds(200), stoppingToken);
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<MailDelivery>().SendDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is DbUpdateException or Npgsql.NpgsqlException or InvalidOperationException)
            {
                logger.LogError(e, "The mail sender failed; it tries again at the next poll");
            }
        }
    }
}
