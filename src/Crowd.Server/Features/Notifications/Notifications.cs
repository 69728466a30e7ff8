using System.Text.Json;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Mail;
using Crowd.Server.Infrastructure.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Notifications;

/// <summary>One person to tell, and what about. <see cref="OnceKey"/>: tell them this only once, however often the check runs.</summary>
public readonly record struct NotificationRecipient(Guid UserId, NotificationData Data, string? OnceKey = null);

/// <summary>A notification as the list shows it.</summary>
public sealed record NotificationView(Guid Id, NotificationKind Kind, RenderedNotification Text, DateTimeOffset CreatedAt, bool Read);

/// <summary>A kind and whether its person wants it in the app and by mail.</summary>
public sealed record NotificationSetting(NotificationKind Kind, bool InApp, bool Email);

/// <summary>
/// The one way the platform tells a person something happened: a row in their list (with the bell's count) and, unless
/// they switched it off, a mail through the outbox. Call it inside the transaction of the action that causes it: the
/// notification and its mail exist exactly when that action committed. Open pages hear of it live (see
/// <see cref="NotificationListener"/>), because the row's insert signals PostgreSQL's <c>NOTIFY</c>, which is delivered
/// only on commit and to every node.
/// </summary>
public sealed class Notifications(CrowdDb db, Outbox outbox, NotificationTexts texts, TimeProvider clock, IOptions<CrowdOptions> options)
{
    /// <summary>The PostgreSQL channel that carries the id of a person whose notifications changed.</summary>
    public const string Channel = "crowd_notifications";

    public const int ListSize = 100;
    private const int Batch = 2_000;
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public Task NotifyAsync(Guid userId, NotificationKind kind, NotificationData data, CancellationToken ct) =>
        NotifyManyAsync(kind, [new NotificationRecipient(userId, data)], ct);

    /// <summary>Tells the person unless a notification with this key already did; true when it was sent now.</summary>
    public async Task<bool> NotifyOnceAsync(Guid userId, NotificationKind kind, NotificationData data, string onceKey, CancellationToken ct) =>
        await NotifyManyAsync(kind, [new NotificationRecipient(userId, data, onceKey)], ct) == 1;

    /// <summary>Tells every member of an organisation who holds the kind's role (requesters of a job's organisation, a supplier's staff).</summary>
    public async Task<int> NotifyOrganisationAsync(Guid organisationId, NotificationKind kind, NotificationData data, CancellationToken ct, string? onceKey = null)
    {
        var role = kind.Audience();
        var members = await db.Users.AsNoTracking()
            .Where(u => u.OrganisationId == organisationId
                        && db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.Name == role)))
            .Select(u => u.Id).ToListAsync(ct);
        return await NotifyManyAsync(kind, members.Select(m => new NotificationRecipient(m, data, onceKey)).ToList(), ct);
    }

    /// <summary>Tells many people at once (a bank batch's payees), a few statements per thousands; returns how many were told now.</summary>
    public async Task<int> NotifyManyAsync(NotificationKind kind, IReadOnlyList<NotificationRecipient> recipients, CancellationToken ct)
    {
        var told = 0;
        foreach (var chunk in recipients.Chunk(Batch))
        {
            told += await NotifyChunkAsync(kind, chunk, ct);
        }
        return told;
    }

    private sealed class Reader
    {
        public Guid Id { get; init; }
        public string? Email { get; init; }
        public string Culture { get; init; } = "en";
        public bool InApp { get; init; }
        public bool Mail { get; init; }
    }

    private async Task<int> NotifyChunkAsync(NotificationKind kind, NotificationRecipient[] recipients, CancellationToken ct)
    {
        var code = kind.Code();
        var userIds = recipients.Select(r => r.UserId).Distinct().ToArray();
        var readers = (await db.Database.SqlQuery<Reader>($"""
            SELECT u.id AS "Id", u.email AS "Email", u.preferred_culture AS "Culture",
                   coalesce(p.in_app, true) AS "InApp", coalesce(p.email, true) AS "Mail"
            FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id AND p.kind = {code}
            WHERE u.id = ANY({userIds})
            """).ToListAsync(ct)).ToDictionary(r => r.Id);
        var rows = recipients.Where(r => readers.ContainsKey(r.UserId)).Select(r => (Id: Guid.CreateVersion7(), Recipient: r)).ToArray();
        if (rows.Length == 0)
        {
            return 0;
        }
        var ids = rows.Select(r => r.Id).ToArray();
        var users = rows.Select(r => r.Recipient.UserId).ToArray();
        var data = rows.Select(r => JsonSerializer.Serialize(r.Recipient.Data, s_json)).ToArray();
        var inApp = rows.Select(r => readers[r.Recipient.UserId].InApp).ToArray();
        var onceKeys = rows.Select(r => r.Recipient.OnceKey).ToArray();
        var now = clock.GetUtcNow();
        // A once-key already used for the person inserts nothing: a recurring check tells each person once.
        var inserted = (await db.Database.SqlQuery<Guid>($"""
            INSERT INTO notifications (id, user_id, kind, data, in_app, once_key, created_at)
            SELECT n.id, n.user_id, {code}, n.data::jsonb, n.in_app, n.once_key, {now}
            FROM unnest({ids}, {users}, {data}, {inApp}, {onceKeys}) AS n(id, user_id, data, in_app, once_key)
            ON CONFLICT (user_id, once_key) WHERE once_key IS NOT NULL DO NOTHING
            RETURNING id AS "Value"
            """).ToListAsync(ct)).ToHashSet();
        var live = rows.Where(r => inserted.Contains(r.Id) && readers[r.Recipient.UserId].InApp).Select(r => r.Recipient.UserId).Distinct().ToArray();
        await SignalAsync(live, ct);

        var mails = new List<OutboxMessage>();
        foreach (var (id, recipient) in rows)
        {
            var reader = readers[recipient.UserId];
            if (!inserted.Contains(id) || !reader.Mail || string.IsNullOrWhiteSpace(reader.Email))
            {
                continue;
            }
            using (Languages.InCulture(reader.Culture))
            {
                var (subject, body) = texts.Mail(texts.Render(kind, recipient.Data), options.Value.PublicUrl!);
                mails.Add(new OutboxMessage(reader.Email, subject, body));
            }
        }
        await outbox.EnqueueManyAsync(mails, ct);
        return inserted.Count;
    }

    public Task<int> UnreadCountAsync(Guid userId, CancellationToken ct) =>
        db.Set<Notification>().CountAsync(n => n.UserId == userId && n.InApp && n.ReadAt == null, ct);

    /// <summary>The person's latest notifications in the current UI language, newest first.</summary>
    public async Task<IReadOnlyList<NotificationView>> ListAsync(Guid userId, CancellationToken ct, int take = ListSize)
    {
        var rows = await db.Set<Notification>().AsNoTracking().Where(n => n.UserId == userId && n.InApp)
            .OrderByDescending(n => n.CreatedAt).ThenByDescending(n => n.Id).Take(take).ToListAsync(ct);
        return rows.Select(View).OfType<NotificationView>().ToList();
    }

    public async Task<NotificationView?> LatestUnreadAsync(Guid userId, CancellationToken ct)
    {
        var row = await db.Set<Notification>().AsNoTracking().Where(n => n.UserId == userId && n.InApp && n.ReadAt == null)
            .OrderByDescending(n => n.CreatedAt).ThenByDescending(n => n.Id).FirstOrDefaultAsync(ct);
        return row is null ? null : View(row);
    }

    /// <summary>Marks the person's notification read and returns where it leads; null when it is not theirs.</summary>
    public async Task<string?> OpenAsync(Guid userId, Guid id, CancellationToken ct)
    {
        var row = await db.Set<Notification>().AsNoTracking().SingleOrDefaultAsync(n => n.Id == id && n.UserId == userId, ct);
        if (row is null)
        {
            return null;
        }
        await MarkReadAsync(userId, id, ct);
        return View(row)?.Text.Link ?? "/Notifications";
    }

    /// <summary>Marks one notification (or, with no id, all of them) read; false when the person has no such notification.</summary>
    public async Task<bool> MarkReadAsync(Guid userId, Guid? id, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var mine = db.Set<Notification>().Where(n => n.UserId == userId && (id == null || n.Id == id));
        if (id is not null && !await mine.AnyAsync(ct))
        {
            return false;
        }
        if (await mine.Where(n => n.ReadAt == null).ExecuteUpdateAsync(s => s.SetProperty(n => n.ReadAt, now), ct) > 0)
        {
            // Other open pages of the person update their bell.
            await SignalAsync([userId], ct);
        }
        return true;
    }

    /// <summary>Every kind the person's roles can get, with their choices (on unless switched off).</summary>
    public async Task<IReadOnlyList<NotificationSetting>> SettingsAsync(Guid userId, IEnumerable<string> roles, CancellationToken ct)
    {
        var saved = await db.Set<NotificationPreference>().AsNoTracking().Where(p => p.UserId == userId).ToDictionaryAsync(p => p.Kind, ct);
        return NotificationKinds.All.Where(k => roles.Contains(k.Audience()))
            .Select(k => saved.TryGetValue(k.Code(), out var p) ? new NotificationSetting(k, p.InApp, p.Email) : new NotificationSetting(k, true, true))
            .ToList();
    }

    /// <summary>Stores the person's choices for these kinds; a kind with both on needs no row.</summary>
    public async Task SaveSettingsAsync(Guid userId, IEnumerable<NotificationSetting> settings, CancellationToken ct)
    {
        var list = settings.ToList();
        var off = list.Where(s => !s.InApp || !s.Email).ToList();
        var codes = list.Select(s => s.Kind.Code()).ToArray();
        var offCodes = off.Select(s => s.Kind.Code()).ToArray();
        var offInApp = off.Select(s => s.InApp).ToArray();
        var offEmail = off.Select(s => s.Email).ToArray();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlAsync($"DELETE FROM notification_preferences WHERE user_id = {userId} AND kind = ANY({codes})", ct);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO notification_preferences (user_id, kind, in_app, email)
            SELECT {userId}, s.kind, s.in_app, s.email FROM unnest({offCodes}, {offInApp}, {offEmail}) AS s(kind, in_app, email)
            """, ct);
        await tx.CommitAsync(ct);
    }

    private NotificationView? View(Notification row)
    {
        if (NotificationKinds.FromCode(row.Kind) is not { } kind)
        {
            return null;
        }
        var data = JsonSerializer.Deserialize<NotificationData>(row.Data, s_json) ?? new NotificationData();
        return new NotificationView(row.Id, kind, texts.Render(kind, data), row.CreatedAt, row.ReadAt is not null);
    }

    /// <summary>NOTIFY is delivered when the transaction commits, and not at all when it rolls back.</summary>
    private async Task SignalAsync(Guid[] userIds, CancellationToken ct)
    {
        if (userIds.Length > 0)
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_notify({Channel}, u::text) FROM unnest({userIds}) AS u", ct);
        }
    }
}
