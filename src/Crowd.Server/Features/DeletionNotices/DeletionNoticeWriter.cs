using System.Text.Json;
using Crowd.Server.Features.Audit;
using Crowd.Server.Features.Exports.Datasets;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Scheduling;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.DeletionNotices;

/// <summary>The event a webhook receives for a deletion notice; the same fields as the notice in the API.</summary>
public sealed record DeletionNoticeEvent(Guid Id, string Type, long Created, DeletionNoticeEventData Data);

public sealed record DeletionNoticeEventData(Guid NoticeId, Guid OrganisationId, string Reason, IReadOnlyList<NoticeClip> Clips, string AcknowledgeUrl);

public sealed record NoticeClip(Guid ClipId, Guid ExportId);

/// <summary>
/// Inside the caller's transaction: one notice per organisation that exported any of the clips, its audit entry, and a
/// webhook delivery when the organisation configured a webhook (sent by a job that starts once the transaction commits).
/// So the destruction and the duty to tell land together.
/// </summary>
public sealed class DeletionNoticeWriter(CrowdDb db, AuditLog audit, BackgroundJobs jobs, TimeProvider clock)
{
    public const string EventType = "deletion_notice.created";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public async Task<int> SendAsync(IReadOnlyCollection<Guid> clipIds, DeletionReason reason, CancellationToken ct)
    {
        if (clipIds.Count == 0)
        {
            return 0;
        }
        var recipients = await db.ClipRecipients.AsNoTracking().Where(r => clipIds.Contains(r.ClipId))
            .Select(r => new { r.OrganisationId, r.ClipId, r.ExportId }).ToListAsync(ct);
        var now = clock.GetUtcNow();
        if (recipients.Count > 0)
        {
            await DeletionFeed.AppendAsync(db, clipIds, reason, now, ct);
        }
        var endpoints = await db.Set<WebhookEndpoint>().AsNoTracking()
            .Where(w => recipients.Select(r => r.OrganisationId).Contains(w.OrganisationId))
            .Select(w => w.OrganisationId).ToListAsync(ct);
        var sent = 0;
        foreach (var organisation in recipients.GroupBy(r => r.OrganisationId))
        {
            var clips = organisation.Select(r => new NoticeClip(r.ClipId, r.ExportId)).OrderBy(c => c.ClipId).ThenBy(c => c.ExportId).ToList();
            var notice = new DeletionNotice
            {
                Id = Guid.CreateVersion7(),
                OrganisationId = organisation.Key,
                Reason = reason,
                ClipCount = clips.Select(c => c.ClipId).Distinct().Count(),
                CreatedAt = now,
            };
            db.Add(notice);
            db.AddRange(clips.Select(c => new DeletionNoticeClip { NoticeId = notice.Id, ClipId = c.ClipId, ExportId = c.ExportId }));
            if (endpoints.Contains(organisation.Key))
            {
                var deliveryId = Guid.CreateVersion7();
                var payload = JsonSerializer.Serialize(new DeletionNoticeEvent(deliveryId, EventType, now.ToUnixTimeSeconds(),
                    new DeletionNoticeEventData(notice.Id, organisation.Key, ReasonCode(reason), clips,
                        $"/api/org/deletion-notices/{notice.Id}/acknowledge")), s_json);
                db.Add(new WebhookDelivery
                {
                    Id = deliveryId,
                    OrganisationId = organisation.Key,
                    NoticeId = notice.Id,
                    EventType = EventType,
                    Payload = payload,
                    State = DeliveryState.Pending,
                    NextAttemptAt = now,
                    CreatedAt = now,
                });
                WebhookSender.EnqueueAfterCommit(jobs, deliveryId);
            }
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
            await audit.AppendAsync(AuditEvent.BySystem("deletion_notice.sent", "deletion_notice", notice.Id.ToString(),
                ReasonCode(reason), JsonSerializer.Serialize(new { organisationId = organisation.Key, clips = notice.ClipCount }, s_json)), ct);
            sent++;
        }
        return sent;
    }

    public static string ReasonCode(DeletionReason reason) => reason == DeletionReason.Withdrawal ? "withdrawal" : "retention";
}
