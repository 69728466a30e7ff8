using Crowd.Server.Infrastructure.Database;
using Npgsql;

namespace Crowd.Server.Tests.Infrastructure;

/// <summary>
/// One throw-away PostgreSQL cluster per test run, started the same way the server starts its embedded one, with its
/// owner and application roles. The schema is migrated once (as the owner) into a template; every test class gets its
/// own database cloned from it. Connection strings handed out are the superuser's (what an operator or an attacker with
/// full database access can do); <see cref="As"/> turns one into the owner's or the application's.
/// </summary>
public static class TestPostgres
{
    private const string Template = "crowd_template";
    private static readonly Lazy<Task<EmbeddedPostgres>> s_cluster = new(StartAsync);
    private static readonly SemaphoreSlim s_cloneLock = new(1, 1);

    public static async Task<string> CreateDatabaseAsync()
    {
        var cluster = await s_cluster.Value;
        var name = "t_" + Guid.NewGuid().ToString("N")[..16];
        // PostgreSQL refuses to clone a template while another clone of it is in progress.
        await s_cloneLock.WaitAsync();
        try
        {
            await using var connection = new NpgsqlConnection(cluster.ConnectionString("postgres"));
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name} TEMPLATE {Template} OWNER {EmbeddedPostgres.OwnerRole}", connection);
            await create.ExecuteNonQueryAsync();
        }
        finally
        {
            s_cloneLock.Release();
        }
        return cluster.ConnectionString(name);
    }

    /// <summary>An empty database with no schema, for tests of the migrator itself.</summary>
    public static async Task<string> CreateEmptyDatabaseAsync()
    {
        var cluster = await s_cluster.Value;
        var name = "e_" + Guid.NewGuid().ToString("N")[..16];
        await SchemaMigrator.EnsureDatabaseAsync(cluster.ConnectionString(name));
        return cluster.ConnectionString(name);
    }

    /// <summary>The shared cluster itself, for tests of how the platform sets up its databases.</summary>
    public static Task<EmbeddedPostgres> ClusterAsync() => s_cluster.Value;

    /// <summary>The same database, connected as another of the cluster's roles.</summary>
    public static async Task<string> As(string connectionString, DatabaseRole role)
    {
        var cluster = await s_cluster.Value;
        return cluster.ConnectionString(new NpgsqlConnectionStringBuilder(connectionString).Database!, role);
    }

    /// <summary>One value read with a statement of the test's own, to check what a real server process left behind.</summary>
    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<EmbeddedPostgres> StartAsync()
    {
        var cluster = await EmbeddedPostgres.StartThrowawayAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
        await cluster.EnsureDatabaseAsync(Template);
        await SchemaMigrator.MigrateAsync(cluster.ConnectionString(Template, DatabaseRole.Owner), EmbeddedPostgres.ApplicationRole, CancellationToken.None);
        NpgsqlConnection.ClearAllPools(); // a template must have no open connections when cloned
        return cluster;
    }
}
