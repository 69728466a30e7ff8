using System.Text;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Accounts.BirthDate;
using Crowd.Server.Features.ApiKeys;
using Crowd.Server.Features.Audit;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Features.Recording.Tasks;
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
        // Each entity's mapping sits beside it, in an IEntityTypeConfiguration<T> of its feature.
        builder.ApplyConfigurationsFromAssembly(typeof(CrowdDb).Assembly);
        // Last, so that it names every table, column, key and index the configurations left to EF's defaults.
        UseSnakeCaseNames(builder);
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
