using System.Net;
using System.Net.Mail;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Scheduling;
using Hangfire;
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
/// Delivers queued mail, one Hangfire job per mail, enqueued when the transaction that queued it commits. The row is
/// locked while it is sent, so two jobs for one mail never both send it; a failure keeps its error and is retried by
/// Hangfire, up to <see cref="MaxAttempts"/> attempts in all.
/// </summary>
public sealed class MailDelivery(CrowdDb db, IMailTransport transport, BackgroundJobs jobs, TimeProvider clock, IOptions<CrowdOptions> options,
    ILogger<MailDelivery> logger)
{
    public const int MaxAttempts = 5;

    /// <summary>How long a queued mail may wait unsent before the sweep assumes its job was lost.</summary>
    private static readonly TimeSpan s_sweepGrace = TimeSpan.FromMinutes(2);

    public bool Enabled => !string.IsNullOrWhiteSpace(options.Value.Mail.Smtp.Host);

    /// <summary>Sends the mail queued in the open transaction once that commits (only when an SMTP server is configured).</summary>
    public void SendAfterCommit(Guid mailId)
    {
        if (Enabled)
        {
            jobs.EnqueueAfterCommit<MailDelivery>(m => m.SendAsync(mailId, CancellationToken.None));
        }
    }

    /// <summary>One attempt. True when sent now; false when there was nothing to send (sent before, out of attempts, or being sent).</summary>
    [JobDisplayName("Mail {0}")]
    [AutomaticRetry(Attempts = MaxAttempts - 1)]
    public async Task<bool> SendAsync(Guid mailId, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var mail = await db.Set<OutboxMail>().FromSql($"""
            SELECT * FROM mail_outbox WHERE id = {mailId} AND sent_at IS NULL AND attempts < {MaxAttempts} FOR UPDATE SKIP LOCKED
            """).SingleOrDefaultAsync(ct);
        if (mail is null)
        {
            return false;
        }
        mail.Attempts++;
        Exception? failure = null;
        try
        {
            await transport.SendAsync(mail, ct);
            mail.SentAt = clock.GetUtcNow();
            mail.Error = null;
        }
        catch (Exception e) when (e is SmtpException or InvalidOperationException or IOException or FormatException)
        {
            logger.LogWarning(e, "Mail {MailId} could not be sent (attempt {Attempt})", mail.Id, mail.Attempts);
            mail.Error = e.Message.Length > 2000 ? e.Message[..2000] : e.Message;
            failure = e;
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        if (failure is not null && mail.Attempts < MaxAttempts)
        {
            // Hangfire's retry, with its growing delays, is the next attempt.
            throw new MailNotSentException(mail.Id, failure);
        }
        return failure is null;
    }

    /// <summary>Enqueues a send for every mail still unsent and never tried well after it was queued: its job was lost.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        if (!Enabled)
        {
            return 0;
        }
        var before = clock.GetUtcNow() - s_sweepGrace;
        var ids = await db.Set<OutboxMail>().AsNoTracking().Where(m => m.SentAt == null && m.Attempts == 0 && m.CreatedAt <= before)
            .OrderBy(m => m.CreatedAt).Select(m => m.Id).Take(1000).ToListAsync(ct);
        foreach (var id in ids)
        {
            SendAfterCommit(id);
        }
        return ids.Count;
    }
}

public sealed class MailNotSentException(Guid mailId, Exception inner) : Exception($"Mail {mailId} was not sent; it is tried again.", inner);

/// <summary>The safety net behind <see cref="MailDelivery"/>: every few minutes, queued mail whose job was lost gets one.</summary>
public sealed class MailSweepJob(MailDelivery delivery) : IScheduledJob
{
    public const string Name = "mail-sweep";

    public Task RunAsync(DateTimeOffset scheduledFor, CancellationToken ct) => delivery.SweepAsync(ct);
}
