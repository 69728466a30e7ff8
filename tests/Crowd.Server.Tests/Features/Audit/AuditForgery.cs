using Crowd.Server.Features.Audit;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crowd.Server.Tests.Features.Audit;

/// <summary>
/// What an attacker with full database access (a superuser's connection) but not the audit key can do to the log: change
/// an entry, then recompute every link after it so that the chain looks whole again.
/// </summary>
public static class AuditForgery
{
    public enum Recompute
    {
        /// <summary>Plain SHA-256 links, the entries still marked keyed.</summary>
        Sha256,
        /// <summary>The changed entry and those after it re-marked as written before the chain was keyed.</summary>
        Unkeyed,
        /// <summary>The whole log rebuilt as if it were from before the chain was keyed.</summary>
        WholeLogUnkeyed,
        /// <summary>HMAC under a key the attacker made up.</summary>
        GuessedKey,
        /// <summary>HMAC under the platform's key: what only the platform can do (the control case).</summary>
        TheKey,
    }

    public static async Task RewriteAsync(string superuser, long seq, Recompute how, byte[]? key = null)
    {
        List<AuditEntry> entries;
        await using (var db = new CrowdDb(new DbContextOptionsBuilder<CrowdDb>().UseNpgsql(superuser).Options))
        {
            entries = await db.AuditLog.AsNoTracking().OrderBy(e => e.Seq).ToListAsync();
        }
        entries[(int)seq - 1].Reason = "rewritten";
        var from = how == Recompute.WholeLogUnkeyed ? 1 : seq;
        var previous = from == 1 ? AuditChain.Genesis : entries[(int)from - 2].Hash;
        var linkKey = how switch
        {
            Recompute.GuessedKey => new byte[32],
            Recompute.TheKey => key ?? throw new ArgumentNullException(nameof(key)),
            _ => [],
        };
        foreach (var entry in entries.Where(e => e.Seq >= from))
        {
            entry.PrevHash = previous;
            entry.Keyed = how is not (Recompute.Sha256 or Recompute.Unkeyed or Recompute.WholeLogUnkeyed);
            entry.Hash = AuditChain.Hash(linkKey, previous, entry);
            entry.Keyed |= how == Recompute.Sha256;
            previous = entry.Hash;
        }

        await using var connection = new NpgsqlConnection(superuser);
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await Execute(connection, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update");
        foreach (var entry in entries.Where(e => e.Seq >= from))
        {
            await using var update = new NpgsqlCommand("UPDATE audit_log SET reason = @reason, keyed = @keyed, prev_hash = @prev, hash = @hash WHERE seq = @seq", connection);
            update.Parameters.AddWithValue("reason", entry.Reason);
            update.Parameters.AddWithValue("keyed", entry.Keyed);
            update.Parameters.AddWithValue("prev", entry.PrevHash);
            update.Parameters.AddWithValue("hash", entry.Hash);
            update.Parameters.AddWithValue("seq", entry.Seq);
            await update.ExecuteNonQueryAsync();
        }
        await Execute(connection, "ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update");
        await tx.CommitAsync();

        static async Task Execute(NpgsqlConnection connection, string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }
}
