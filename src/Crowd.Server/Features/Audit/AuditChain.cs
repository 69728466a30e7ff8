using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Crowd.Server.Features.Audit;

/// <summary>
/// The chain rule, pure: hash(n) = HMAC-SHA256(audit key, hash(n-1) ‖ canonical bytes of entry n), with 32 zero bytes
/// before the first entry. Changing any byte of any entry, removing one or reordering them breaks every later link, and
/// without the audit key (kept out of the database) nobody can compute the links again. Entries written before the chain
/// was keyed are linked with plain SHA-256; the keyed entries after them seal them.
/// </summary>
public static class AuditChain
{
    public static readonly byte[] Genesis = new byte[32];

    public static byte[] Hash(ReadOnlySpan<byte> key, byte[] prevHash, AuditEntry entry)
    {
        var canonical = string.Join('\n',
            entry.Seq.ToString(CultureInfo.InvariantCulture),
            Timestamp(entry.At),
            entry.ActorKind,
            entry.ActorId?.ToString("D") ?? "",
            entry.Action,
            entry.SubjectType,
            entry.SubjectId,
            Escape(entry.Reason),
            Escape(entry.Details));
        var bytes = Encoding.UTF8.GetBytes(canonical);
        var buffer = new byte[prevHash.Length + bytes.Length];
        prevHash.CopyTo(buffer, 0);
        bytes.CopyTo(buffer, prevHash.Length);
        return entry.Keyed ? HMACSHA256.HashData(key, buffer) : SHA256.HashData(buffer);
    }

    /// <summary>PostgreSQL keeps microseconds; the hash must cover exactly what is stored.</summary>
    public static DateTimeOffset ToStoredPrecision(DateTimeOffset at) =>
        new(at.UtcTicks - at.UtcTicks % 10, TimeSpan.Zero);

    /// <summary>
    /// Walks entries in sequence order; returns the first that does not link, or null when the chain holds. A wrong key
    /// breaks the first keyed entry. An unkeyed entry after a keyed one, or a log without any keyed entry, is a chain
    /// someone rebuilt without the key.
    /// </summary>
    public static AuditBreak? Verify(IEnumerable<AuditEntry> entries, byte[] key)
    {
        var expectedPrev = Genesis;
        var expectedSeq = 1L;
        var keyed = false;
        foreach (var entry in entries)
        {
            if (entry.Seq != expectedSeq)
            {
                return new AuditBreak(expectedSeq, $"entry {expectedSeq} is missing (next present is {entry.Seq})", "seq");
            }
            if (keyed && !entry.Keyed)
            {
                return new AuditBreak(entry.Seq, "it is not keyed although an earlier entry is: it was written without the audit key", "key");
            }
            keyed |= entry.Keyed;
            if (!entry.PrevHash.AsSpan().SequenceEqual(expectedPrev))
            {
                return new AuditBreak(entry.Seq, "its previous-hash does not match the entry before it", "prev_hash");
            }
            var actual = Hash(key, expectedPrev, entry);
            if (!entry.Hash.AsSpan().SequenceEqual(actual))
            {
                return new AuditBreak(entry.Seq, entry.Keyed
                    ? "its content does not match its keyed hash (the entry was changed, or this is not the platform's audit key)"
                    : "its content does not match its hash (the entry was changed)", "hash");
            }
            expectedPrev = entry.Hash;
            expectedSeq++;
        }
        return expectedSeq > 1 && !keyed
            ? new AuditBreak(1, "no entry is keyed with the audit key: the log was rebuilt without the key, or no server with the key has written to it yet", "key")
            : null;
    }

    private static string Timestamp(DateTimeOffset at) =>
        ToStoredPrecision(at).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    // Newlines separate fields, so free text must not be able to fake a field boundary.
    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}

/// <summary>The first link that does not hold: its sequence number, what is wrong, and which link broke ("seq", "prev_hash", "hash" or "key").</summary>
public sealed record AuditBreak(long Seq, string Problem, string Link);
