using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Hangfire.PostgreSql;
using Npgsql;

namespace Crowd.Server.Infrastructure.Database;

/// <summary>
/// Applies the SQL files under Migrations/ in name order, each once, each in its own transaction,
/// recorded in schema_migrations, then brings Hangfire's own schema up to date. An advisory lock makes concurrent starts
/// of several nodes safe.
/// </summary>
public static class SchemaMigrator
{
    private const long LockKey = 0x43524F5744; // "CROWD"
    private static readonly string s_prefix = typeof(SchemaMigrator).Namespace + ".Migrations.";

    public static IReadOnlyList<(string Id, string Sql)> Migrations { get; } = LoadMigrations();

    public static Task<int> MigrateAsync(string connectionString, CancellationToken ct = default) =>
        MigrateAsync(connectionString, applicationRole: null, ct);

    /// <summary>
    /// Applies pending migrations as the connection's role (the schema's owner) and, when the server runs as another
    /// role, grants that application role what it needs on every table, the new ones included.
    /// </summary>
    public static async Task<int> MigrateAsync(string connectionString, string? applicationRole, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await connection.ExecuteAsync($"SELECT pg_advisory_lock({LockKey})", ct);
        try
        {
            await connection.ExecuteAsync($"""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    id text PRIMARY KEY,
                    sha256 text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, ct);
            var applied = new Dictionary<string, string>();
            await foreach (var (migration, sha256) in connection.QueryAsync($"SELECT id, sha256 FROM schema_migrations", r => (r.GetString(0), r.GetString(1)), ct))
            {
                applied[migration] = sha256;
            }

            var count = 0;
            foreach (var (id, sql) in Migrations)
            {
                var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
                if (applied.TryGetValue(id, out var appliedHash))
                {
                    if (appliedHash != hash)
                    {
                        throw new InvalidOperationException(
                            $"Migration {id} was changed after it was applied. Add a new migration instead of editing an applied one.");
                    }
                    continue;
                }
                await using var tx = await connection.BeginTransactionAsync(ct);
                await connection.ExecuteTrustedScriptAsync(sql, ct);
                await connection.ExecuteAsync($"INSERT INTO schema_migrations (id, sha256) VALUES ({id}, {hash})", ct);
                await tx.CommitAsync(ct);
                count++;
            }
            // Under the same lock: Hangfire's installer, left to itself, races when two nodes start on an empty database.
            PostgreSqlObjectsInstaller.Install(connection, Scheduling.Scheduling.Schema);
            if (applicationRole is not null)
            {
                // Under the lock: concurrent GRANTs on one table fail with "tuple concurrently updated".
                await connection.ExecuteAsync($"SELECT crowd_grant_application_role({applicationRole})", ct);
            }
            return count;
        }
        finally
        {
            await connection.ExecuteAsync($"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
        }
    }

    /// <summary>Creates the database named in the connection string when the server does not have it yet.</summary>
    public static async Task EnsureDatabaseAsync(string connectionString, CancellationToken ct = default)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        var admin = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(ct);
        if (await connection.ScalarAsync($"SELECT 1 FROM pg_database WHERE datname = {target.Database!}", ct) is null)
        {
            await connection.ExecuteTrustedScriptAsync($"CREATE DATABASE {BareConnection.Identifier(target.Database!)}", ct);
        }
    }

    private static List<(string, string)> LoadMigrations()
    {
        var assembly = Assembly.GetExecutingAssembly();
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(s_prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream, Encoding.UTF8);
                return (n[s_prefix.Length..^4], reader.ReadToEnd());
            })
            .ToList();
    }
}
