using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Accounts.BirthDate;

/// <summary>
/// A contributor's request to correct their date of birth after they consented to a job: the date decides whether a
/// guardian had to consent, so an admin approves or rejects the change.
/// </summary>
public sealed class BirthDateChange
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public DateOnly CurrentDateOfBirth { get; set; }
    public DateOnly RequestedDateOfBirth { get; set; }
    public string Reason { get; set; } = "";
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
    public Guid? DecidedBy { get; set; }
    public bool? Approved { get; set; }
}

internal sealed class BirthDateChangeConfiguration : IEntityTypeConfiguration<BirthDateChange>
{
    public void Configure(EntityTypeBuilder<BirthDateChange> e)
    {
        e.ToTable("birth_date_changes", t => t.HasCheckConstraint("ck_birth_date_changes_decision",
            "(decided_at IS NULL) = (approved IS NULL) AND (decided_at IS NULL) = (decided_by IS NULL)"));
        e.Property(c => c.Reason).HasMaxLength(1000);
        e.HasIndex(c => c.UserId).IsUnique().HasFilter("decided_at IS NULL");
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(c => c.UserId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(c => c.DecidedBy).OnDelete(DeleteBehavior.Restrict);
    }
}
