using System.CommandLine;
using System.Globalization;
using Crowd.Server.Features.Audit;
using Npgsql;

namespace Crowd.Cli.Audit;

/// <summary><c>crowd audit verify [--connection "Host=…;Database=…"]</c>: walks the hash chain of the audit log.</summary>
public static class AuditCommands
{
    /// <summary>The variable the server reads its connection string from (ConnectionStrings:Crowd).</summary>
    public const string ConnectionVariable = "ConnectionStrings__Crowd";

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
        var command = new Command("verify", "Check every link of the audit log's hash chain and report the first broken one") { connection };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(connection) ?? Environment.GetEnvironmentVariable(ConnectionVariable), ct));
        return command;
    }

    /// <returns>0 when every link holds, 1 at the first broken link, 2 when the log cannot be read.</returns>
    private static async Task<int> RunAsync(string? connectionString, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            await Console.Error.WriteLineAsync($"No database given: pass --connection or set {ConnectionVariable}.");
            return 2;
        }
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand(
                "SELECT seq, at, actor_kind, actor_id, action, subject_type, subject_id, reason, details, prev_hash, hash FROM audit_log ORDER BY seq",
                connection);
            await using var reader = await command.ExecuteReaderAsync(ct);
            var count = 0L;
            AuditEntry? last = null;
            var broken = AuditChain.Verify(Read(reader).Select(e =>
            {
                count++;
                last = e;
                return e;
            }));
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
            return 0;
        }
        catch (Exception e) when (e is NpgsqlException or ArgumentException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"Cannot read the audit log: {e.Message}");
            return 2;
        }
    }

    // Entries are checked as they stream in, so a log of any length verifies in constant memory.
    private static IEnumerable<AuditEntry> Read(NpgsqlDataReader reader)
    {
        while (reader.Read())
        {
            yield return new AuditEntry
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
            };
        }
    }
}
