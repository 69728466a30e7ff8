using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Infrastructure.Mail;

/// <summary>A mail the platform sends. Stored before it is sent; with no SMTP server configured it is only stored.</summary>
public sealed class OutboxMail
{
    public Guid Id { get; set; }
    public string ToAddress { get; set; } = "";
    public string Subject { get; set; } = "";
    public string Body { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    public int Attempts { get; set; }
    public string? Error { get; set; }
}

/// <summary>
/// The one way to send mail. <see cref="EnqueueAsync"/> writes the mail inside the caller's transaction (if any), so
/// a mail exists exactly when the action that causes it committed; <see cref="MailDelivery"/> sends it afterwards.
/// </summary>
public sealed class Outbox(CrowdDb db, TimeProvider clock, MailDelivery delivery)
{
    public const int MaxSubjectLength = 500;

    public async Task<Guid> EnqueueAsync(string to, string subject, string body, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(to);
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(body);
        var id = Guid.CreateVersion7();
        // Plain SQL rather than SaveChanges, so the caller's other tracked changes are not flushed early.
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO mail_outbox (id, to_address, subject, body, created_at, attempts)
            VALUES ({id}, {to.Trim()}, {(subject.Length > MaxSubjectLength ? subject[..MaxSubjectLength] : subject)}, {body}, {clock.GetUtcNow()}, 0)
            """, ct);
        delivery.SendAfterCommit(id);
        return id;
    }
}
