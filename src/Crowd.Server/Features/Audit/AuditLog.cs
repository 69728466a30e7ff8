using System.Runtime.CompilerServices;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Audit;

/// <summary>Appends to the audit log inside the caller's transaction, so an action and its record land together.</summary>
public sealed class AuditLog(CrowdDb db, TimeProvider clock)
{
    private const long ChainLock = 0x41554449; // "AUDI"

    public async Task<AuditEntry> AppendAsync(AuditEvent audit, CancellationToken ct)
    {
        var ownTransaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        try
        {
            // One writer at a time extends the chain; the lock ends with the transaction.
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock({0})", [ChainLock], ct);
            var last = await db.AuditLog.AsNoTracking().OrderByDescending(e => e.Seq)
                .Select(e => new { e.Seq, e.Hash }).FirstOrDefaultAsync(ct);
            var entry = new AuditEntry
            {
                Seq = (last?.Seq ?? 0) + 1,
                At = AuditChain.ToStoredPrecision(clock.GetUtcNow()),
                ActorKind = audit.ActorKind,
                ActorId = audit.ActorId,
                Action = audit.Action,
                SubjectType = audit.SubjectType,
                SubjectId = audit.SubjectId,
                Reason = audit.Reason,
                Details = audit.Details,
                PrevHash = last?.Hash ?? AuditChain.Genesis,
            };
            entry.Hash = AuditChain.Hash(entry.PrevHash, entry);
            db.AuditLog.Add(entry);
            await db.SaveChangesAsync(ct);
            db.Entry(entry).State = EntityState.Detached;
            if (ownTransaction is not null)
            {
                await ownTransaction.CommitAsync(ct);
            }
            return entry;
        }
        finally
        {
            if (ownTransaction is not null)
            {
                await ownTransaction.DisposeAsync();
            }
        }
    }

    /// <summary>Checks the whole chain, streaming it in order; null when every link holds.</summary>
    public static Task<AuditBreak?> VerifyAsync(CrowdDb db, CancellationToken ct) =>
        Task.Run(() => AuditChain.Verify(Stream(db, ct).ToBlockingEnumerable(ct)), ct);

    private static async IAsyncEnumerable<AuditEntry> Stream(CrowdDb db, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var entry in db.AuditLog.AsNoTracking().OrderBy(e => e.Seq).AsAsyncEnumerable().WithCancellation(ct))
        {
            yield return entry;
        }
    }
}

public static class AuditSetup
{
    public static IServiceCollection AddCrowdAudit(this IServiceCollection services) => services.AddScoped<AuditLog>();
}
