namespace Crowd.Server.Features.Audit;

/// <summary>
/// One line of the append-only, hash-chained audit log: consent given or withdrawn, guardian confirmations, every
/// read of audio, exports, deletions, key destruction, coercion-report outcomes.
/// </summary>
public sealed class AuditEntry
{
    public long Seq { get; set; }
    public DateTimeOffset At { get; set; }
    /// <summary>"user", "apikey" or "system".</summary>
    public string ActorKind { get; set; } = "";
    public Guid? ActorId { get; set; }
    /// <summary>What happened, e.g. "consent.given", "audio.read", "dataset.exported", "clip.key_destroyed".</summary>
    public string Action { get; set; } = "";
    public string SubjectType { get; set; } = "";
    public string SubjectId { get; set; } = "";
    /// <summary>Why, in words: the purpose of an audio read, the ground of a decision.</summary>
    public string Reason { get; set; } = "";
    /// <summary>Exact JSON text as hashed (text, not jsonb, so that reading it back gives the same bytes).</summary>
    public string Details { get; set; } = "{}";
    /// <summary>Whether the entry's hash is an HMAC under the audit key; false only for entries written before the chain was keyed.</summary>
    public bool Keyed { get; set; }
    public byte[] PrevHash { get; set; } = [];
    public byte[] Hash { get; set; } = [];
}

/// <summary>What a caller records; the log adds the sequence number, time and hashes.</summary>
public sealed record AuditEvent(
    string ActorKind, Guid? ActorId, string Action, string SubjectType, string SubjectId, string Reason = "", string Details = "{}")
{
    public static AuditEvent BySystem(string action, string subjectType, string subjectId, string reason = "", string details = "{}") =>
        new("system", null, action, subjectType, subjectId, reason, details);
}
