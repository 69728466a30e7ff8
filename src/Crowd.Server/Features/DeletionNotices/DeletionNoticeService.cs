using System.Text.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Audit;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.DeletionNotices;

public sealed record NoticeView(Guid Id, string Reason, int ClipCount, DateTimeOffset CreatedAt, DateTimeOffset? AcknowledgedAt,
    IReadOnlyList<NoticeClip> Clips);

public sealed record OpenNotice(Guid Id, Guid OrganisationId, string Organisation, string Reason, int ClipCount, DateTimeOffset CreatedAt,
    TimeSpan Age, string? Webhook);

public sealed record WebhookView(string Url, DateTimeOffset CreatedAt);

/// <summary>
/// One delivery as its requester sees it. <c>LastOutcome</c> is a stable code (delivered, refused, could_not_connect) and
/// <c>LastResult</c> the same in the reader's language; neither ever carries the text of an internal error.
/// </summary>
public sealed record DeliveryView(Guid Id, Guid NoticeId, string State, int Attempts, DateTimeOffset? LastAttemptAt, int? LastStatus,
    string? LastOutcome, string? LastResult, DateTimeOffset? DeliveredAt, DateTimeOffset NextAttemptAt);

/// <summary>Webhook URLs, checked without HTTP or EF (the resolved addresses are checked by <see cref="WebhookNetwork"/>).</summary>
public static class WebhookRules
{
    public const int MaxUrlLength = 2000;

    public const string NotPublic = "The webhook address must be on the public internet: {0} is a private, loopback or otherwise internal address.";

    public static IReadOnlyList<FieldError> Validate(string? url, bool allowInsecure)
    {
        if (TextRules.Check("url", url, TextKind.Line) is { } text)
        {
            return [text];
        }
        if (string.IsNullOrWhiteSpace(url) || url.Length > MaxUrlLength || !Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri)
            || uri.Scheme is not ("https" or "http") || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return [new FieldError("url", "Enter the full address of your webhook, starting with https://.")];
        }
        if (uri.Scheme == "http" && !allowInsecure)
        {
            return [new FieldError("url", "The webhook address must start with https://, so that notices travel encrypted.")];
        }
        // Names that only ever lead inside, and IPv6 zone ids (which only mean something on a local link). The addresses
        // themselves, in whatever spelling, are checked by WebhookNetwork once Uri has read them (2130706433 and 127.1
        // are 127.0.0.1 to it).
        var host = uri.IdnHost.Trim('[', ']');
        if (host.Contains('%', StringComparison.Ordinal) || WebhookAddresses.IsInternalName(host))
        {
            return [new FieldError("url", NotPublic, uri.Host)];
        }
        return [];
    }
}

/// <summary>A requester organisation's side of deletion notices: reading and acknowledging them, and its webhook.</summary>
public sealed class DeletionNoticeService(CrowdDb db, AuditLog audit, TimeProvider clock, IDataProtectionProvider protection, IOptions<CrowdOptions> options,
    WebhookNetwork network)
{
    internal const string SecretPurpose = "Crowd.DeletionNotices.WebhookSecret";

    public async Task<IReadOnlyList<NoticeView>> ListAsync(Guid organisationId, bool openOnly, CancellationToken ct)
    {
        var notices = await db.Set<DeletionNotice>().AsNoTracking()
            .Where(n => n.OrganisationId == organisationId && (!openOnly || n.AcknowledgedAt == null))
            .OrderByDescending(n => n.CreatedAt).Take(200).ToListAsync(ct);
        var ids = notices.Select(n => n.Id).ToList();
        var clips = await db.Set<DeletionNoticeClip>().AsNoTracking().Where(c => ids.Contains(c.NoticeId)).ToListAsync(ct);
        return notices.Select(n => new NoticeView(n.Id, DeletionNoticeWriter.ReasonCode(n.Reason), n.ClipCount, n.CreatedAt, n.AcknowledgedAt,
            clips.Where(c => c.NoticeId == n.Id).Select(c => new NoticeClip(c.ClipId, c.ExportId)).ToList())).ToList();
    }

    /// <summary>Acknowledges one open notice (or all, when <paramref name="noticeId"/> is null); returns how many.</summary>
    public async Task<int> AcknowledgeAsync(Guid organisationId, Guid userId, Guid? noticeId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var acknowledged = await db.Database.SqlQuery<Guid>($"""
            UPDATE deletion_notices SET acknowledged_at = {now}, acknowledged_by_user_id = {userId}
            WHERE organisation_id = {organisationId} AND acknowledged_at IS NULL AND ({noticeId}::uuid IS NULL OR id = {noticeId})
            RETURNING id AS "Value"
            """).ToListAsync(ct);
        foreach (var id in acknowledged.Order())
        {
            await audit.AppendAsync(new AuditEvent("user", userId, "deletion_notice.acknowledged", "deletion_notice", id.ToString(), "",
                JsonSerializer.Serialize(new { organisationId })), ct);
        }
        await tx.CommitAsync(ct);
        return acknowledged.Count;
    }

    public Task<bool> ExistsAsync(Guid organisationId, Guid noticeId, CancellationToken ct) =>
        db.Set<DeletionNotice>().AnyAsync(n => n.Id == noticeId && n.OrganisationId == organisationId, ct);

    public static async Task<IReadOnlyList<OpenNotice>> OpenForAdminsAsync(CrowdDb db, DateTimeOffset now, CancellationToken ct)
    {
        var rows = await db.Set<DeletionNotice>().AsNoTracking().Where(n => n.AcknowledgedAt == null)
            .Join(db.Organisations, n => n.OrganisationId, o => o.Id, (n, o) => new { n, o.Name })
            .OrderBy(x => x.n.CreatedAt).Take(500)
            .Select(x => new
            {
                x.n, x.Name,
                Delivery = db.Set<WebhookDelivery>().Where(d => d.NoticeId == x.n.Id).Select(d => (DeliveryState?)d.State).FirstOrDefault(),
            })
            .ToListAsync(ct);
        return rows.Select(x => new OpenNotice(x.n.Id, x.n.OrganisationId, x.Name, DeletionNoticeWriter.ReasonCode(x.n.Reason), x.n.ClipCount,
            x.n.CreatedAt, now - x.n.CreatedAt, x.Delivery?.ToString().ToLowerInvariant())).ToList();
    }

    public Task<WebhookView?> WebhookAsync(Guid organisationId, CancellationToken ct) =>
        db.Set<WebhookEndpoint>().AsNoTracking().Where(w => w.OrganisationId == organisationId)
            .Select(w => new WebhookView(w.Url, w.CreatedAt)).FirstOrDefaultAsync(ct);

    /// <summary>Sets the organisation's webhook with a new signing secret, returned here only: it is shown once.</summary>
    public async Task<(IReadOnlyList<FieldError> Errors, string? Secret)> SetWebhookAsync(Guid organisationId, Guid userId, string? url, CancellationToken ct)
    {
        var errors = WebhookRules.Validate(url, options.Value.Webhooks.AllowInsecureUrls);
        if (errors.Count > 0)
        {
            return (errors, null);
        }
        var uri = new Uri(url!.Trim());
        switch ((await network.CheckAsync(uri.IdnHost, ct)).Check)
        {
            case HostCheck.Internal:
                return ([new FieldError("url", WebhookRules.NotPublic, uri.Host)], null);
            case HostCheck.NotFound:
                return ([new FieldError("url", "We could not find {0}. Check the address of your webhook.", uri.Host)], null);
        }
        var secret = WebhookSignature.NewSecret();
        var endpoint = await db.Set<WebhookEndpoint>().FirstOrDefaultAsync(w => w.OrganisationId == organisationId, ct);
        if (endpoint is null)
        {
            endpoint = new WebhookEndpoint { OrganisationId = organisationId };
            db.Add(endpoint);
        }
        endpoint.Url = url!.Trim();
        endpoint.ProtectedSecret = protection.CreateProtector(SecretPurpose).Protect(secret);
        endpoint.CreatedAt = clock.GetUtcNow();
        endpoint.CreatedByUserId = userId;
        await db.SaveChangesAsync(ct);
        return ([], secret);
    }

    /// <summary>Removes the webhook; deliveries still waiting for it end as failed (nothing is left to send them to).</summary>
    public async Task<bool> RemoveWebhookAsync(Guid organisationId, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var removed = await db.Set<WebhookEndpoint>().Where(w => w.OrganisationId == organisationId).ExecuteDeleteAsync(ct) > 0;
        await db.Set<WebhookDelivery>().Where(d => d.OrganisationId == organisationId && d.State == DeliveryState.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.State, DeliveryState.Failed), ct);
        await tx.CommitAsync(ct);
        return removed;
    }

    public async Task<IReadOnlyList<DeliveryView>> DeliveriesAsync(Guid organisationId, IStringLocalizer text, CancellationToken ct) =>
        (await db.Set<WebhookDelivery>().AsNoTracking().Where(d => d.OrganisationId == organisationId)
            .OrderByDescending(d => d.CreatedAt).Take(50).ToListAsync(ct))
        .Select(d => new DeliveryView(d.Id, d.NoticeId, d.State.ToString().ToLowerInvariant(), d.Attempts, d.LastAttemptAt, d.LastStatus,
            d.LastOutcome?.Code(), d.LastOutcome is { } outcome ? outcome.Describe(d.LastStatus, text) : null, d.DeliveredAt, d.NextAttemptAt)).ToList();
}
