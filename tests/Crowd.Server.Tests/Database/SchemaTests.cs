using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crowd.Server.Tests.Database;

public sealed class SchemaTests
{
    [Fact]
    public async Task MigratingTwiceAppliesNothingTheSecondTimeAndKeepsTheData()
    {
        var connectionString = await TestPostgres.CreateEmptyDatabaseAsync();

        (await SchemaMigrator.MigrateAsync(connectionString)).ShouldBe(SchemaMigrator.Migrations.Count);
        await ExecuteAsync(connectionString, "INSERT INTO organisations (id, name, kind, created_at) VALUES (gen_random_uuid(), 'Kept', 1, now())");

        (await SchemaMigrator.MigrateAsync(connectionString)).ShouldBe(0);
        (await ScalarAsync(connectionString, "SELECT count(*) FROM organisations WHERE name = 'Kept'")).ShouldBe(1L);
        (await ScalarAsync(connectionString, "SELECT count(*) FROM schema_migrations")).ShouldBe((long)SchemaMigrator.Migrations.Count);
    }

    [Fact]
    public async Task ConcurrentStartsApplyEachMigrationOnce()
    {
        var connectionString = await TestPostgres.CreateEmptyDatabaseAsync();

        var applied = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => SchemaMigrator.MigrateAsync(connectionString)));

        applied.Sum().ShouldBe(SchemaMigrator.Migrations.Count);
    }

    [Fact]
    public async Task SchemaMatchesTheModel()
    {
        var migrated = await TestPostgres.CreateEmptyDatabaseAsync();
        await SchemaMigrator.MigrateAsync(migrated);
        var fromModel = await TestPostgres.CreateEmptyDatabaseAsync();
        await using (var db = new CrowdDb(new DbContextOptionsBuilder<CrowdDb>().UseNpgsql(fromModel).Options))
        {
            await db.Database.ExecuteSqlRawAsync(db.Database.GenerateCreateScript().Replace("    xmin xid NOT NULL,\n", "", StringComparison.Ordinal));
        }

        var expected = await ColumnsAsync(fromModel);
        var actual = await ColumnsAsync(migrated);

        actual.Except(expected).ShouldBeEmpty("columns the migrations have but the EF model lacks");
        expected.Except(actual).ShouldBeEmpty("columns the EF model has but the migrations lack");
    }

    private static async Task<List<string>> ColumnsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT table_name || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '') || ' ' || is_nullable
            FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name <> 'schema_migrations' AND table_name NOT LIKE 'qrtz\_%'
            ORDER BY 1
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var columns = new List<string>();
        while (await reader.ReadAsync())
        {
            columns.Add(reader.GetString(0));
        }
        return columns;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
