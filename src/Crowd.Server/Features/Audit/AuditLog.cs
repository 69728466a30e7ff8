using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Audit;

/// <summary>The key of the audit chain's HMAC (Crowd:Keys:Audit), which never enters the database.</summary>
public sealed class AuditKey(byte[] key)
{
    public byte[] Key => key;
}

/// <summary>The audit log's last entry is not keyed: someone rewrote the log without the key since this server started.</summary>
public sealed class AuditChainUnkeyedException(long seq)
    : InvalidOperationException($"The audit log's last entry ({seq}) is not keyed with the audit key, so it was written without it. " +
        "Nothing more is appended until it is looked into: run crowd audit verify.");

/// <summary>Appends to the audit log inside the caller's transaction, so an action and its record land together.</summary>
public sealed class AuditLog(CrowdDb db, TimeProvider clock, AuditKey key)
{
    private const long ChainLock = 0x41554449; // "AUDI"

    public async Task<AuditEntry> AppendAsync(AuditEvent audit, CancellationToken ct) => (await AppendCoreAsync(audit, sealing: false, ct))!;

    /// <summary>
    /// Seals entries written before the chain was keyed with a keyed entry that names them. Only a start-up does this:
    /// a log whose last entry is unkeyed at any other time was rewritten without the key, and appending stops instead.
    /// Returns the sealing entry, or null when the log is empty or already keyed.
    /// </summary>
    public Task<AuditEntry?> SealUnkeyedAsync(CancellationToken ct) =>
        AppendCoreAsync(AuditEvent.BySystem("audit.chain_keyed", "audit_log", "", "entries before this one were written before the chain was keyed"),
            sealing: true, ct);

    private async Task<AuditEntry?> AppendCoreAsync(AuditEvent audit, bool sealing, CancellationToken ct)
    {
        var ownTransaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        try
        {
            // One writer at a time extends the chain; the lock ends with the transaction.
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({ChainLock})", ct);
            var last = await db.AuditLog.AsNoTracking().OrderByDescending(e => e.Seq)
                .Select(e => new { e.Seq, e.Hash, e.Keyed }).FirstOrDefaultAsync(ct);
            if (last is not null && !last.Keyed && !sealing)
            {
                throw new AuditChainUnkeyedException(last.Seq);
            }
            if (sealing && (last is null || last.Keyed))
            {
                return null;
            }
            if (sealing)
            {
                audit = audit with
                {
                    SubjectId = last!.Seq.ToString(CultureInfo.InvariantCulture),
                    Details = JsonSerializer.Serialize(new { unkeyedEntries = last.Seq, unkeyedHead = Convert.ToHexStringLower(last.Hash) }),
                };
            }
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
                Keyed = true,
                PrevHash = last?.Hash ?? AuditChain.Genesis,
            };
            entry.Hash = AuditChain.Hash(key.Key, entry.PrevHash, entry);
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

    /// <summary>Checks the whole chain with the audit key, streaming it in order; null when every link holds.</summary>
    public static Task<AuditBreak?> VerifyAsync(CrowdDb db, AuditKey key, CancellationToken ct) =>
        Task.Run(() => AuditChain.Verify(Stream(db, ct).ToBlockingEnumerable(ct), key.Key), ct);

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
    public static WebApplicationBuilder AddAudit(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp => new AuditKey(sp.GetRequiredService<KeyFiles>()
            .Load("audit.key", sp.GetRequiredService<IOptions<CrowdOptions>>().Value.Keys.Audit, "Crowd:Keys:Audit")));
        builder.Services.AddScoped<AuditLog>();
        return builder;
    }

    /// <summary>At start-up, after migrations: seals the entries an earlier version wrote before the chain was keyed.</summary>
    public static async Task UseAuditAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var sealedBy = await scope.ServiceProvider.GetRequiredService<AuditLog>().SealUnkeyedAsync(app.Lifetime.ApplicationStopping);
        if (sealedBy is not null)
        {
            app.Logger.LogWarning("Audit log: entries 1 to {Last} were written before the chain was keyed; entry {Seal} seals them. " +
                "This happens once, at the first start after the upgrade; if it happens again, the log was rewritten.", sealedBy.Seq - 1, sealedBy.Seq);
        }
    }
}
