using Crowd.Server.Infrastructure.Database;

namespace Crowd.Benchmarks;

/// <summary>A throw-away PostgreSQL cluster with a migrated database, for one benchmark run.</summary>
internal static class BenchDatabase
{
    public static async Task<(EmbeddedPostgres Cluster, string ConnectionString)> StartAsync()
    {
        Console.WriteLine($"Starting a throw-away PostgreSQL cluster and migrating it ({Environment.ProcessorCount} cores)…");
        var cluster = await EmbeddedPostgres.StartThrowawayAsync();
        var connectionString = cluster.ConnectionString("bench");
        await SchemaMigrator.EnsureDatabaseAsync(connectionString);
        await SchemaMigrator.MigrateAsync(connectionString);
        return (cluster, connectionString);
    }
}
