using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.DeletionNotices;
using Crowd.Server.Features.Recording.Clips;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Withdrawal;

/// <summary>The EF model of Migrations/0035_withdrawal_and_deletion_notices.sql.</summary>
internal static class WithdrawalModel
{
    public static void MapWithdrawal(this ModelBuilder builder)
    {
        builder.Entity<ClipFileDeletion>(e =>
        {
            e.ToTable("clip_file_deletions");
            e.HasKey(d => d.ClipId);
            e.Property(d => d.StorageKey).HasMaxLength(200);
            e.Property(d => d.LastError).HasMaxLength(500);
            e.HasIndex(d => d.QueuedAt).HasFilter("deleted_at IS NULL");
            e.HasOne<Clip>().WithMany().HasForeignKey(d => d.ClipId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<DeletionNotice>(e =>
        {
            e.ToTable("deletion_notices", t =>
                t.HasCheckConstraint("ck_deletion_notices_acknowledged", "(acknowledged_at IS NULL) = (acknowledged_by_user_id IS NULL)"));
            e.HasIndex(n => new { n.OrganisationId, n.CreatedAt });
            e.HasIndex(n => n.CreatedAt).HasFilter("acknowledged_at IS NULL");
            e.HasOne<Organisation>().WithMany().HasForeignKey(n => n.OrganisationId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<CrowdUser>().WithMany().HasForeignKey(n => n.AcknowledgedByUserId).OnDelete(DeleteBehavior.Restrict);
        });

        builder.Entity<DeletionNoticeClip>(e =>
        {
            e.ToTable("deletion_notice_clips");
            e.HasKey(c => new { c.NoticeId, c.ClipId, c.ExportId });
            e.HasIndex(c => c.ClipId);
            e.HasOne<DeletionNotice>().WithMany().HasForeignKey(c => c.NoticeId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Clip>().WithMany().HasForeignKey(c => c.ClipId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<WebhookEndpoint>(e =>
        {
            e.ToTable("webhook_endpoints");
            e.HasKey(w => w.OrganisationId);
            e.Property(w => w.Url).HasMaxLength(2000);
            e.HasOne<Organisation>().WithOne().HasForeignKey<WebhookEndpoint>(w => w.OrganisationId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<CrowdUser>().WithMany().HasForeignKey(w => w.CreatedByUserId).OnDelete(DeleteBehavior.Restrict);
        });

        builder.Entity<WebhookDelivery>(e =>
        {
            e.ToTable("webhook_deliveries");
            e.Property(d => d.EventType).HasMaxLength(100);
            e.HasIndex(d => d.NextAttemptAt).HasFilter("state = 0");
            e.HasIndex(d => d.NoticeId);
            e.HasIndex(d => d.OrganisationId);
            e.HasOne<Organisation>().WithMany().HasForeignKey(d => d.OrganisationId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<DeletionNotice>().WithMany().HasForeignKey(d => d.NoticeId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}
