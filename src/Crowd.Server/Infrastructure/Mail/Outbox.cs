using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

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
        return (await EnqueueManyAsync([new OutboxMessage(to, subject, body)], ct))[0];
    }

    /// <summary>Several mails in one statement (a notification to every payee of a bank batch), in the caller's transaction.</summary>
    public async Task<IReadOnlyList<Guid>> EnqueueManyAsync(IReadOnlyList<OutboxMessage> mails, CancellationToken ct)
    {
        if (mails.Count == 0)
        {
            return [];
        }
        var ids = mails.Select(_ => Guid.CreateVersion7()).ToArray();
        var to = mails.Select(m => m.To.Trim()).ToArray();
        var subjects = mails.Select(m => m.Subject.Length > MaxSubjectLength ? m.Subject[..MaxSubjectLength] : m.Subject).ToArray();
        var bodies = mails.Select(m => m.Body).ToArray();
        // Plain SQL rather than SaveChanges, so the caller's other tracked changes are not flushed early.
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO mail_outbox (id, to_address, subject, body, created_at, attempts)
            SELECT m.id, m.to_address, m.subject, m.body, {clock.GetUtcNow()}, 0
            FROM unnest({ids}, {to}, {subjects}, {bodies}) AS m(id, to_address, subject, body)
            """, ct);
        foreach (var id in ids)
        {
            delivery.SendAfterCommit(id);
        }
        return ids;
    }
}

/// <summary>A mail to queue: one address, a subject and a plain-text body.</summary>
public sealed record OutboxMessage(string To, string Subject, string Body);

internal sealed class OutboxMailConfiguration : IEntityTypeConfiguration<OutboxMail>
{
    public void Configure(EntityTypeBuilder<OutboxMail> e)
    {
        e.ToTable("mail_outbox");
        e.Property(m => m.ToAddress).HasMaxLength(320);
        e.Property(m => m.Subject).HasMaxLength(Outbox.MaxSubjectLength);
        e.Property(m => m.Error).HasMaxLength(2000);
        e.HasIndex(m => m.CreatedAt).HasFilter("sent_at IS NULL");
        e.HasIndex(m => m.ToAddress);
    }
}
