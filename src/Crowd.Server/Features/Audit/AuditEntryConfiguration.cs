using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Audit;

/// <summary>Kept out of AuditEntry.cs, which the command-line verifier compiles in without EF.</summary>
internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> e)
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
    }
}
