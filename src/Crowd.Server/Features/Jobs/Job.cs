using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs.Assessments;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Jobs;

public enum JobStatus
{
    Draft = 0,
    Published = 1,
    Closed = 2,
}

/// <summary>A recording job a requester organisation posts. Terms are versioned from the first publication.</summary>
public sealed class Job
{
    public Guid Id { get; set; }
    public Guid OrganisationId { get; set; }
    public Guid CreatedByUserId { get; set; }
    public JobStatus Status { get; set; }
    /// <summary>0 while a draft; each publication of changed terms adds one.</summary>
    public int Version { get; set; }

    /// <summary>What the job asks of contributors and promises them; replaced as a whole, never edited field by field.</summary>
    public JobTerms Terms { get; set; } = JobTerms.Defaults;
    /// <summary>Accepted takes one contributor may give this job, so that a few speakers cannot dominate its dataset.</summary>
    public int MaxTakesPerSpeaker { get; set; } = 200;
    public int PromptCount { get; set; }
    /// <summary>SHA-256 of the prompts (see PromptSet.Hash); part of the terms a contributor consents to.</summary>
    public string PromptsSha256 { get; set; } = "";
    /// <summary>Other contributors of the job listen to its clips and vote (see Features/Reviews).</summary>
    public bool PeerValidation { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? PublishedAt { get; set; }
    /// <summary>When the job closed; its impact assessments are kept three years from then.</summary>
    public DateTimeOffset? ClosedAt { get; set; }
    public uint RowVersion { get; set; }
}

/// <summary>A snapshot of a published job's terms; consent refers to one of these.</summary>
public sealed class JobVersion
{
    public Guid JobId { get; set; }
    public int Version { get; set; }
    public string TermsJson { get; set; } = "";
    public string TermsSha256 { get; set; } = "";
    public DateTimeOffset PublishedAt { get; set; }
    /// <summary>The purposes this version asked consent for: a clip's dataset use is checked against its consent's version.</summary>
    public bool PurposeSpeechRecognition { get; set; } = true;
    public bool PurposeVoiceCloning { get; set; }
    /// <summary>The approved impact assessment this version was published under.</summary>
    public Guid? ImpactAssessmentId { get; set; }
}

public sealed class Prompt
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public int Ordinal { get; set; }
    public string Text { get; set; } = "";
    /// <summary>The requester's own id for the prompt, from the first column of a TSV upload.</summary>
    public string? ExternalRef { get; set; }
}

internal sealed class JobConfiguration : IEntityTypeConfiguration<Job>
{
    public void Configure(EntityTypeBuilder<Job> e)
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
                property.SetColumnName(CrowdDb.Snake(property.Name));
            }
        });
        e.Property(j => j.PromptsSha256).HasMaxLength(64);
        // PostgreSQL's xmin system column is the optimistic-concurrency token: it changes on every update.
        e.Property(j => j.RowVersion).IsRowVersion().HasColumnName("xmin").HasColumnType("xid");
        e.HasIndex(j => new { j.OrganisationId, j.Status });
        // ix_jobs_status_language (0001_initial.sql) is not declared here: EF Core 10 cannot index a complex property's column.
        e.HasOne<Organisation>().WithMany().HasForeignKey(j => j.OrganisationId).OnDelete(DeleteBehavior.Restrict);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(j => j.CreatedByUserId).OnDelete(DeleteBehavior.Restrict);
        e.ToTable(t => t.HasCheckConstraint("ck_jobs_max_takes_per_speaker", "max_takes_per_speaker > 0"));
    }
}

internal sealed class JobVersionConfiguration : IEntityTypeConfiguration<JobVersion>
{
    public void Configure(EntityTypeBuilder<JobVersion> e)
    {
        e.HasKey(v => new { v.JobId, v.Version });
        e.Property(v => v.TermsSha256).HasMaxLength(64);
        e.HasOne<Job>().WithMany().HasForeignKey(v => v.JobId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<ImpactAssessment>().WithMany().HasForeignKey(v => v.ImpactAssessmentId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class PromptConfiguration : IEntityTypeConfiguration<Prompt>
{
    public void Configure(EntityTypeBuilder<Prompt> e)
    {
        e.Property(p => p.Text).HasMaxLength(PromptRules.MaxPromptLength);
        e.Property(p => p.ExternalRef).HasMaxLength(200);
        e.HasIndex(p => new { p.JobId, p.Ordinal }).IsUnique();
        e.HasOne<Job>().WithMany().HasForeignKey(p => p.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
