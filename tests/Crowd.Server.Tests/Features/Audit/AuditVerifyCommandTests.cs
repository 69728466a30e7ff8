using System.Diagnostics;
using System.Security.Cryptography;
using Crowd.Server.Features.Audit;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crowd.Server.Tests.Features.Audit;

/// <summary>`crowd audit verify`, run as the real command-line tool against a real database.</summary>
public sealed class AuditVerifyCommandTests
{
    /// <summary>The audit key the logs here are written with; the command gets it as the server would, from Crowd__Keys__Audit.</summary>
    private static readonly byte[] s_key = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public async Task ACleanLogVerifiesWithExitCodeZero()
    {
        var database = await LogAsync(entries: 6);

        var (exit, output) = await CrowdAsync(["audit", "verify", "--connection", database]);

        exit.ShouldBe(0, output);
        output.ShouldContain("OK: 6 entries, seq 1 to 6, every link holds.");
    }

    [Fact]
    public async Task TheConnectionStringCanComeFromTheServersEnvironmentVariable()
    {
        var database = await LogAsync(entries: 2);

        var (exit, output) = await CrowdAsync(["audit", "verify"], new Dictionary<string, string> { ["ConnectionStrings__Crowd"] = database });

        exit.ShouldBe(0, output);
        output.ShouldContain("OK: 2 entries");
    }

    [Fact]
    public async Task WithoutADatabaseItSaysWhatToPass()
    {
        var (exit, output) = await CrowdAsync(["audit", "verify"], new Dictionary<string, string> { ["ConnectionStrings__Crowd"] = "" });

        exit.ShouldBe(2);
        output.ShouldContain("pass --connection or set ConnectionStrings__Crowd");
    }

    public static TheoryData<string, string> Tampering => new()
    {
        { "at", "at = at + interval '1 microsecond'" },
        { "actor_kind", "actor_kind = actor_kind || 'x'" },
        { "actor_id", "actor_id = gen_random_uuid()" },
        { "action", "action = 'audio.raed'" },
        { "subject_type", "subject_type = subject_type || 'x'" },
        { "subject_id", "subject_id = subject_id || 'x'" },
        { "reason", "reason = 'revieW'" },
        { "details", "details = replace(details, '1024', '1025')" },
        { "prev_hash", "prev_hash = set_byte(prev_hash, 31, (get_byte(prev_hash, 31) + 1) % 256)" },
        { "hash", "hash = set_byte(hash, 0, (get_byte(hash, 0) # 1))" },
    };

    [Theory]
    [MemberData(nameof(Tampering))]
    public async Task AByteChangedInAnyFieldOfAnEntryIsReportedAsThatEntry(string field, string change)
    {
        var database = await LogAsync(entries: 6);
        await TamperAsync(database, $"UPDATE audit_log SET {change} WHERE seq = 4");

        var (exit, output) = await CrowdAsync(["audit", "verify", "--connection", database]);

        exit.ShouldBe(1, output);
        output.ShouldContain("BROKEN at seq 4 (", Case.Sensitive, $"changing {field} of entry 4 breaks entry 4's link");
        output.ShouldContain(field == "prev_hash" ? "(prev_hash)" : "(hash)");
    }

    [Fact]
    public async Task WithoutTheAuditKeyItDoesNotVouchForTheLog()
    {
        var database = await LogAsync(entries: 2);

        var (exit, output) = await CrowdAsync(["audit", "verify", "--connection", database], new Dictionary<string, string> { [AuditKeyVariable] = "" });

        exit.ShouldBe(2);
        output.ShouldContain("No audit key: pass --key-file (the server's keys/audit.key) or set Crowd__Keys__Audit");
    }

    [Fact]
    public async Task TheKeyCanComeFromTheServersKeyFile()
    {
        var database = await LogAsync(entries: 3);
        var keyFile = Path.Combine(Path.GetTempPath(), "crowd-audit-" + Guid.NewGuid().ToString("N")[..8] + ".key");
        await File.WriteAllTextAsync(keyFile, Convert.ToBase64String(s_key));
        try
        {
            var (exit, output) = await CrowdAsync(["audit", "verify", "--connection", database, "--key-file", keyFile],
                new Dictionary<string, string> { [AuditKeyVariable] = "" });

            exit.ShouldBe(0, output);
            output.ShouldContain("OK: 3 entries");
        }
        finally
        {
            File.Delete(keyFile);
        }
    }

    [Fact]
    public async Task AnEntryRewrittenWithItsChainRecomputedWithoutTheKeyIsReported()
    {
        var database = await LogAsync(entries: 6);
        await AuditForgery.RewriteAsync(database, seq: 4, AuditForgery.Recompute.Unkeyed);

        var (exit, output) = await CrowdAsync(["audit", "verify", "--connection", database]);

        exit.ShouldBe(1, output);
        output.ShouldContain("BROKEN at seq 4 (key)");
    }

    [Fact]
    public async Task ARemovedEntryIsReportedAsMissing()
    {
        var database = await LogAsync(entries: 5);
        await TamperAsync(database, "DELETE FROM audit_log WHERE seq = 3");

        var (exit, output) = await CrowdAsync(["audit", "verify", "--connection", database]);

        exit.ShouldBe(1);
        output.ShouldContain("BROKEN at seq 3 (seq): entry 3 is missing");
    }

    private static async Task<string> LogAsync(int entries)
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        await using var db = new CrowdDb(new DbContextOptionsBuilder<CrowdDb>().UseNpgsql(database).Options);
        var log = new AuditLog(db, TimeProvider.System, new AuditKey(s_key));
        for (var i = 0; i < entries; i++)
        {
            await log.AppendAsync(new AuditEvent("user", Guid.NewGuid(), "audio.read", "clip", Guid.NewGuid().ToString(), "review",
                """{"bytes":1024}"""), CancellationToken.None);
        }
        return database;
    }

    // What someone with superuser rights would do: switch the append-only guard off and edit the rows.
    private static async Task TamperAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update; {sql}; ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;", connection);
        await command.ExecuteNonQueryAsync();
    }

    private const string AuditKeyVariable = "Crowd__Keys__Audit";

    private static async Task<(int Exit, string Output)> CrowdAsync(string[] args, IDictionary<string, string>? environment = null)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            ? "Release" : "Debug";
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(ServerProcess.RepositoryRoot, "src", "Crowd.Cli", "bin", configuration, "net10.0", "crowd.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment.Remove("ConnectionStrings__Crowd");
        start.Environment[AuditKeyVariable] = Convert.ToBase64String(s_key);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
