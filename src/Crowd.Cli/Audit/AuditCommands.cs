using System.CommandLine;
using System.Globalization;
using Crowd.Server.Features.Audit;
using Crowd.Server.Infrastructure.Database;
using Npgsql;

namespace Crowd.Cli.Audit;

/// <summary>
/// <c>crowd audit verify [--connection "Host=…;Database=…"] [--key-file keys/audit.key]</c>: walks the keyed hash chain of
/// the audit log. Without the audit key the chain cannot be checked: whoever can write to the database could rebuild it.
/// </summary>
public static class AuditCommands
{
    /// <summary>The variable the server reads its connection string from (ConnectionStrings:Crowd).</summary>
    public const string ConnectionVariable = "ConnectionStrings__Crowd";

    /// <summary>The variable the server reads the audit key from (Crowd:Keys:Audit).</summary>
    public const string KeyVariable = "Crowd__Keys__Audit";

    public static Command Create()
    {
        var audit = new Command("audit", "The tamper-evident audit log");
        audit.Subcommands.Add(Verify());
        return audit;
    }

    private static Command Verify()
    {
        var connection = new Option<string?>("--connection")
        {
            Description = $"PostgreSQL connection string of the platform's database (default: the {ConnectionVariable} environment variable)",
        };
        var keyFile = new Option<FileInfo?>("--key-file")
        {
            Description = $"File holding the audit key, base64 (the server's keys/audit.key; default: the {KeyVariable} environment variable)",
        };
        var command = new Command("verify", "Check every link of the audit log's keyed hash chain and report the first broken one") { connection, keyFile };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(connection) ?? Environment.GetEnvironmentVariable(ConnectionVariable),
            parse.GetValue(keyFile), ct));
        return command;
    }

    /// <returns>0 when every link holds, 1 at the first broken link, 2 when the log or the key cannot be read.</returns>
    private static async Task<int> RunAsync(string? connectionString, FileInfo? keyFile, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await Console.Error.WriteLineAsync($"No database given: pass --connection or set {ConnectionVariable}.");
            return 2;
        }
        var key = await ReadKeyAsync(keyFile, ct);
        if (key is null)
        {
            await Console.Error.WriteLineAsync($"No audit key: pass --key-file (the server's keys/audit.key) or set {KeyVariable} to the key, base64 of 32 bytes.");
            return 2;
        }
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(ct);
            var entries = connection.QueryAsync(
                $"SELECT seq, at, actor_kind, actor_id, action, subject_type, subject_id, reason, details, prev_hash, hash, keyed FROM audit_log ORDER BY seq",
                Entry, ct);
            var count = 0L;
            AuditEntry? last = null;
            AuditEntry? firstKeyed = null;
            // Entries are checked as they stream in, so a log of any length verifies in constant memory.
            var broken = AuditChain.Verify(entries.ToBlockingEnumerable(ct).Select(e =>
            {
                count++;
                last = e;
                firstKeyed ??= e.Keyed ? e : null;
                return e;
            }), key);
            if (broken is not null)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"BROKEN at seq {broken.Seq} ({broken.Link}): {broken.Problem}. Entries before it verify; this one and every later one cannot be trusted."));
                return 1;
            }
            Console.WriteLine(last is null
                ? "The audit log is empty."
                : string.Create(CultureInfo.InvariantCulture,
                    $"OK: {count} entries, seq 1 to {last.Seq}, every link holds. Head hash {Convert.ToHexStringLower(last.Hash)}"));
            if (firstKeyed is { Seq: > 1 })
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Entries 1 to {firstKeyed.Seq - 1} were written before the chain was keyed; entry {firstKeyed.Seq} sealed them at {firstKeyed.At:u}. That should be the first start after the upgrade."));
            }
            return 0;
        }
        catch (Exception e) when (e is NpgsqlException or ArgumentException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"Cannot read the audit log: {e.Message}");
            return 2;
        }
    }

    private static async Task<byte[]?> ReadKeyAsync(FileInfo? keyFile, CancellationToken ct)
    {
        var base64 = keyFile is not null && keyFile.Exists ? await File.ReadAllTextAsync(keyFile.FullName, ct) : Environment.GetEnvironmentVariable(KeyVariable);
        if (string.IsNullOrWhiteSpace(base64))
        {
            return null;
        }
        try
        {
            var key = Convert.FromBase64String(base64.Trim());
            return key.Length == 32 ? key : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static AuditEntry Entry(NpgsqlDataReader reader) => new()
    {
        Seq = reader.GetInt64(0),
        At = reader.GetFieldValue<DateTimeOffset>(1),
        ActorKind = reader.GetString(2),
        ActorId = reader.IsDBNull(3) ? null : reader.GetGuid(3),
        Action = reader.GetString(4),
        SubjectType = reader.GetString(5),
        SubjectId = reader.GetString(6),
        Reason = reader.GetString(7),
        Details = reader.GetString(8),
        PrevHash = reader.GetFieldValue<byte[]>(9),
        Hash = reader.GetFieldValue<byte[]>(10),
        Keyed = reader.GetBoolean(11),
    };
}
