using System.Text;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Accounts.BirthDate;
using Crowd.Server.Features.Accounts.Profile;
using Crowd.Server.Features.Accounts.Speech;
using Crowd.Server.Features.ApiKeys;
using Crowd.Server.Features.Audit;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Exports;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Jobs.Assessments;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Notifications;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Features.Reviews;
using Crowd.Server.Features.Recording;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Features.Recording.Takes;
using Crowd.Server.Features.Recording.Tasks;
using Crowd.Server.Features.Suppliers;
using Crowd.Server.Features.Withdrawal;
using Crowd.Server.Infrastructure.Mail;
using Crowd.Server.Infrastructure.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Infrastructure.Database;

/// <summary>
/// The platform's EF Core model. The schema itself is owned by the SQL files in Migrations/;
/// SchemaMatchesTheModel (a test) keeps the two in step.
/// </summary>
public sealed class CrowdDb(DbContextOptions<CrowdDb> options)
    : IdentityDbContext<CrowdUser, IdentityRole<Guid>, Guid>(options)
{
    public DbSet<Organisation> Organisations => Set<Organisation>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<RateFloor> RateFloors => Set<RateFloor>();
    public DbSet<Job> Jobs => Set<Job>();
    public DbSet<JobVersion> JobVersions => Set<JobVersion>();
    public DbSet<Prompt> Prompts => Set<Prompt>();
    public DbSet<ConsentRecord> Consents => Set<ConsentRecord>();
    public DbSet<StoredConsentText> ConsentTexts => Set<StoredConsentText>();
    public DbSet<GuardianConsent> GuardianConsents => Set<GuardianConsent>();
    public DbSet<BirthDateChange> BirthDateChanges => Set<BirthDateChange>();
    public DbSet<OutboxMail> MailOutbox => Set<OutboxMail>();
    public DbSet<RecordingTask> RecordingTasks => Set<RecordingTask>();
    public DbSet<RecordingSpeaker> RecordingSpeakers => Set<RecordingSpeaker>();
    public DbSet<WorkerSession> WorkerSessions => Set<WorkerSession>();
    public DbSet<Clip> Clips => Set<Clip>();
    public DbSet<ClipRecipient> ClipRecipients => Set<ClipRecipient>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);

        builder.Entity<CrowdUser>(e =>
        {
            e.ToTable("users");
            e.Property(u => u.DisplayName).HasMaxLength(100);
            e.Property(u => u.PreferredCulture).HasMaxLength(16);
            e.HasOne(u => u.Organisation).WithMany().HasForeignKey(u => u.OrganisationId).OnDelete(DeleteBehavior.Restrict);
        });
        builder.Entity<IdentityRole<Guid>>().ToTable("roles");
        builder.Entity<IdentityUserRole<Guid>>().ToTable("user_roles");
        builder.Entity<IdentityUserClaim<Guid>>().ToTable("user_claims");
        builder.Entity<IdentityUserLogin<Guid>>().ToTable("user_logins");
        builder.Entity<IdentityUserToken<Guid>>().ToTable("user_tokens");
        builder.Entity<IdentityRoleClaim<Guid>>().ToTable("role_claims");

        builder.Entity<Organisation>(e =>
        {
            e.Property(o => o.Name).HasMaxLength(200);
        });

        builder.Entity<ApiKey>(e =>
        {
            e.Property(k => k.Name).HasMaxLength(100);
            e.Property(k => k.Prefix).HasMaxLength(32);
            e.HasIndex(k => k.Prefix).IsUnique();
            e.HasIndex(k => k.OrganisationId);
            e.HasOne<Organisation>().WithMany().HasForeignKey(k => k.OrganisationId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<CrowdUser>().WithMany().HasForeignKey(k => k.CreatedByUserId).OnDelete(DeleteBehavior.Restrict);
        });

        builder.Entity<RateFloor>(e =>
        {
            e.HasKey(f => new { f.Region, f.Currency });
            e.Property(f => f.Region).HasMaxLength(16);
            e.Property(f => f.Currency).HasMaxLength(3).IsFixedLength();
            e.Property(f => f.RegionName).HasMaxLength(100);
            e.Property(f => f.Source).HasMaxLength(1000);
            e.Ignore(f => f.FloorMinor);
        });

        builder.Entity<Job>(e =>
        {
            e.ComplexProperty(j => j.Terms, t =>
            {
                t.Property(x => x.Title).HasMaxLength(200);
                t.Property(x => x.Description).HasMaxLength(10_000);
                t.Property(x => x.Language).HasMaxLength(35);
                t.Property(x => x.EnvironmentNotes).HasMaxLength(2_000);
                t.Property(x => x.Currency).HasMaxLength(3).IsFixedLength();
                t.Property(x => x.Region).HasMaxLength(16);
                t.Property(x => x.BuyerName).HasMaxLength(200);
                // The terms keep the columns they had as the job's own properties, without a terms_ prefix.
                foreach (var property in t.Metadata.ComplexType.GetProperties())
                {
                    property.SetColumnName(Snake(property.Name));
                }
            });
            e.Property(j => j.PromptsSha256).HasMaxLength(64);
            // PostgreSQL's xmin system column is the optimistic-concurrency token: it changes on every update.
            e.Property(j => j.RowVersion).IsRowVersion().HasColumnName("xmin").HasColumnType("xid");
            e.HasIndex(j => new { j.OrganisationId, j.Status });
            // ix_jobs_status_language (0001_initial.sql) is not declared here: EF Core 10 cannot index a complex property's column.
            e.HasOne<Organisation>().WithMany().HasForeignKey(j => j.OrganisationId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<CrowdUser>().WithMany().HasForeignKey(j => j.CreatedByUserId).OnDelete(DeleteBehavior.Restrict);
        });

        builder.Entity<JobVersion>(e =>
        {
            e.HasKey(v => new { v.JobId, v.Version });
            e.Property(v => v.TermsSha256).HasMaxLength(64);
            e.HasOne<Job>().WithMany().HasForeignKey(v => v.JobId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<ImpactAssessment>().WithMany().HasForeignKey(v => v.ImpactAssessmentId).OnDelete(DeleteBehavior.Restrict);
        });

        builder.Entity<Prompt>(e =>
        {
            e.Property(p => p.Text).HasMaxLength(PromptRules.MaxPromptLength);
            e.Property(p => p.ExternalRef).HasMaxLength(200);
            e.HasIndex(p => new { p.JobId, p.Ordinal }).IsUnique();
            e.HasOne<Job>().WithMany().HasForeignKey(p => p.JobId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<DataProtectionKey>(e =>
        {
            e.Property(k => k.FriendlyName).HasMaxLength(200);
        });

        builder.Entity<AuditEntry>(e =>
        {
            e.ToTable("audit_log");
            e.HasKey(a => a.Seq);
            e.Property(a => a.Seq).ValueGeneratedNever();
            e.Property(a => a.ActorKind).HasMaxLength(16);
            e.Property(a => a.Action).HasMaxLength(64);
            e.Property(a => a.SubjectType).HasMaxLength(64);
            e.Property(a => a.SubjectId).HasMaxLength(200);
            e.Property(a => a.Reason).HasMaxLength(2000);
            e.HasIndex(a => new { a.SubjectType, a.SubjectId }).HasDatabaseName("ix_audit_log_subject");
        });

        builder.MapRecording();
        builder.MapReviews();
        builder.MapSuppliers();
        builder.MapWithdrawal();
        builder.MapExports();
        builder.MapAssessments();
        builder.MapMail();
        builder.MapSignInThrottles();
        builder.MapJobFunding();
        builder.MapNotificationsModel();
        builder.MapTakeOutcomes();
        builder.MapSpeakerProfiles();
        builder.MapContributorProfiles();
        builder.Entity<BirthDateChange>(e =>
        {
            e.ToTable("birth_date_changes", t => t.HasCheckConstraint("ck_birth_date_changes_decision",
                "(decided_at IS NULL) = (approved IS NULL) AND (decided_at IS NULL) = (decided_by IS NULL)"));
            e.Property(c => c.Reason).HasMaxLength(1000);
            e.HasIndex(c => c.UserId).IsUnique().HasFilter("decided_at IS NULL");
            e.HasOne<CrowdUser>().WithMany().HasForeignKey(c => c.UserId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<CrowdUser>().WithMany().HasForeignKey(c => c.DecidedBy).OnDelete(DeleteBehavior.Restrict);
        });
        ConfigureMoney(builder);

        UseSnakeCaseNames(builder);
    }

    // Ledger, escrow, earnings and payouts (migrations 0020-0022). Amounts are minor units; currencies ISO codes.
    private static void ConfigureMoney(ModelBuilder builder)
    {
        builder.Entity<LedgerAccount>(e =>
        {
            e.ToTable("ledger_accounts");
            e.Property(a => a.Currency).HasMaxLength(3).IsFixedLength();
            e.HasIndex(a => new { a.Kind, a.OwnerId, a.Currency }).IsUnique();
        });
        builder.Entity<LedgerTransaction>(e =>
        {
            e.ToTable("ledger_transactions");
            e.Property(t => t.Reference).HasMaxLength(200);
            e.Property(t => t.IdempotencyKey).HasMaxLength(200);
            e.HasIndex(t => t.IdempotencyKey).IsUnique();
        });
        builder.Entity<LedgerEntry>(e =>
        {
            e.ToTable("ledger_entries");
            e.Property(x => x.Id).UseIdentityByDefaultColumn();
            e.Property(x => x.Currency).HasMaxLength(3).IsFixedLength();
            e.HasIndex(x => x.TransactionId);
            e.HasIndex(x => x.AccountId);
        });
        builder.Entity<JobBudget>(e =>
        {
            e.ToTable("job_budgets");
            e.HasKey(b => b.JobId);
            e.Property(b => b.PauseReason).HasMaxLength(500);
            e.HasOne<Job>().WithOne().HasForeignKey<JobBudget>(b => b.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<EscrowNotice>(e =>
        {
            e.ToTable("escrow_notices");
            e.Property(n => n.Message).HasMaxLength(500);
            e.HasIndex(n => new { n.OrganisationId, n.CreatedAt });
            e.HasOne<Job>().WithMany().HasForeignKey(n => n.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<EscrowRefund>(e =>
        {
            e.ToTable("escrow_refunds", t => t.HasCheckConstraint("ck_escrow_refunds_amount_positive", "amount_minor > 0"));
            e.Property(r => r.PaymentIntentId).HasMaxLength(100);
            e.Property(r => r.Currency).HasMaxLength(3).IsFixedLength();
            e.Property(r => r.StripeRefundId).HasMaxLength(100);
            e.Property(r => r.FailureReason).HasMaxLength(500);
            e.HasIndex(r => r.JobId);
            e.HasIndex(r => r.State).HasFilter("state = 0");
            e.HasOne<Job>().WithMany().HasForeignKey(r => r.JobId).OnDelete(DeleteBehavior.Restrict);
        });
        builder.Entity<EarningsAccrualRow>(e =>
        {
            e.ToTable("earnings_accruals");
            e.HasKey(a => a.SessionId);
            e.Property(a => a.Currency).HasMaxLength(3).IsFixedLength();
            e.HasIndex(a => new { a.ContributorId, a.JobId });
            e.HasOne<Job>().WithMany().HasForeignKey(a => a.JobId).OnDelete(DeleteBehavior.Restrict);
        });
        builder.Entity<PayoutAccount>(e =>
        {
            e.ToTable("payout_accounts");
            e.HasKey(a => a.ContributorId);
            e.Property(a => a.PayeeName).HasMaxLength(200);
            e.Property(a => a.LegacyAccountNumber).HasColumnName("bank_account_reference").HasMaxLength(200);
            e.Property(a => a.AccountNumberLast4).HasMaxLength(4);
            e.Property(a => a.StripeAccountId).HasMaxLength(100);
            e.Property(a => a.Currency).HasMaxLength(3).IsFixedLength();
            e.HasIndex(a => a.StripeAccountId).IsUnique();
            e.HasOne<CrowdUser>().WithOne().HasForeignKey<PayoutAccount>(a => a.ContributorId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<PayoutRun>(e =>
        {
            e.ToTable("payout_runs");
            e.Property(r => r.RunKey).HasMaxLength(100);
            e.Property(r => r.Node).HasMaxLength(200);
            e.HasIndex(r => r.RunKey).IsUnique();
        });
        builder.Entity<BankPayoutBatch>(e =>
        {
            e.ToTable("bank_payout_batches");
            e.Property(b => b.Currency).HasMaxLength(3).IsFixedLength();
            e.HasIndex(b => new { b.RunId, b.Currency }).IsUnique();
            e.HasOne<PayoutRun>().WithMany().HasForeignKey(b => b.RunId).OnDelete(DeleteBehavior.Restrict);
        });
        builder.Entity<Payout>(e =>
        {
            e.ToTable("payouts");
            e.Property(p => p.Currency).HasMaxLength(3).IsFixedLength();
            e.Property(p => p.ProviderReference).HasMaxLength(100);
            e.Property(p => p.FailureReason).HasMaxLength(500);
            e.Property(p => p.TransferGroup).HasMaxLength(100);
            e.Property(p => p.JobIds).HasMaxLength(500);
            e.HasIndex(p => new { p.RunId, p.ContributorId, p.Currency }).IsUnique();
            e.HasIndex(p => p.ContributorId);
            e.HasIndex(p => p.State);
            e.HasOne<PayoutRun>().WithMany().HasForeignKey(p => p.RunId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<BankPayoutBatch>().WithMany().HasForeignKey(p => p.BatchId).OnDelete(DeleteBehavior.Restrict);
        });
        builder.Entity<StripeEvent>(e =>
        {
            e.ToTable("stripe_events");
            e.Property(x => x.Id).HasMaxLength(100);
            e.Property(x => x.Type).HasMaxLength(100);
        });
    }

    private static void UseSnakeCaseNames(ModelBuilder builder)
    {
        foreach (var entity in builder.Model.GetEntityTypes())
        {
            var table = entity.GetTableName()!;
            if (!table.Contains('_', StringComparison.Ordinal))
            {
                entity.SetTableName(Snake(table));
            }
            foreach (var property in entity.GetProperties().Where(p => p.GetColumnName() != "xmin"))
            {
                property.SetColumnName(Snake(property.GetColumnName()));
            }
            foreach (var key in entity.GetKeys())
            {
                key.SetName(Snake(key.GetName()!));
            }
            foreach (var foreignKey in entity.GetForeignKeys())
            {
                foreignKey.SetConstraintName(Snake(foreignKey.GetConstraintName()!));
            }
            foreach (var index in entity.GetIndexes())
            {
                index.SetDatabaseName(Snake(index.GetDatabaseName()!));
            }
        }
    }

    internal static string Snake(string name)
    {
        var result = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && name[i - 1] != '_' && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]))))
                {
                    result.Append('_');
                }
                result.Append(char.ToLowerInvariant(c));
            }
            else
            {
                result.Append(c);
            }
        }
        return result.ToString();
    }
}
