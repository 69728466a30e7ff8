using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Recording.Sessions;

public enum WorkerSessionState
{
    Open = 0,
    Closed = 1,
}

/// <summary>
/// The durable half of a contributor's working session on a job: what a crashed node leaves behind for the next one.
/// The live half (analyzer, take buffer, clock, connection) is the session's <see cref="WorkerSessionGrain"/>.
/// </summary>
public sealed class WorkerSession
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public int JobVersion { get; set; }
    public Guid ContributorId { get; set; }
    public WorkerSessionState State { get; set; }
    /// <summary>Paid time, as of <see cref="LastCheckpointAt"/>.</summary>
    public long ActiveMs { get; set; }
    public int Clips { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset LastActivityAt { get; set; }
    public DateTimeOffset LastCheckpointAt { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }
    public Guid? CurrentTaskId { get; set; }
    public Guid? CurrentTakeId { get; set; }
    public int LastChunkSeq { get; set; } = -1;
    /// <summary>The silo that last activated the session's grain (for operators; Orleans finds the grain by itself).</summary>
    public string? NodeId { get; set; }
    public uint RowVersion { get; set; }
}

internal sealed class WorkerSessionConfiguration : IEntityTypeConfiguration<WorkerSession>
{
    public void Configure(EntityTypeBuilder<WorkerSession> e)
    {
        e.ToTable("worker_sessions");
        e.Property(s => s.NodeId).HasMaxLength(100);
        e.Property(s => s.RowVersion).IsRowVersion().HasColumnName("xmin").HasColumnType("xid");
        e.HasIndex(s => new { s.JobId, s.ContributorId }).IsUnique().HasFilter($"state = {(int)WorkerSessionState.Open}");
        e.HasIndex(s => s.ContributorId);
        e.HasOne<Job>().WithMany().HasForeignKey(s => s.JobId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<CrowdUser>().WithMany().HasForeignKey(s => s.ContributorId).OnDelete(DeleteBehavior.Cascade);
    }
}
