using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Audit;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crowd.Server.Tests.Database;

/// <summary>The server runs as a role that can change rows but not the schema, nor switch off the audit log's guard.</summary>
public sealed class DatabaseRolesTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task AsTheServersRoleTheAuditLogsGuardCannotBeSwitchedOff()
    {
        await AppendAsync(app);

        var role = await app.WithDbAsync(db => db.Database.SqlQuery<string>($"SELECT current_user AS \"Value\"").SingleAsync());
        var replica = await RefusedAsync("SET session_replication_role = replica");
        var disable = await RefusedAsync("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update");
        var update = await RefusedAsync("UPDATE audit_log SET reason = 'rewritten'");
        var delete = await RefusedAsync("DELETE FROM audit_log");
        var truncate = await RefusedAsync("TRUNCATE audit_log");

        role.ShouldBe(EmbeddedPostgres.ApplicationRole);
        replica.SqlState.ShouldBe(PostgresErrorCodes.InsufficientPrivilege, replica.MessageText);
        disable.SqlState.ShouldBe(PostgresErrorCodes.InsufficientPrivilege, disable.MessageText);
        update.MessageText.ShouldContain("append-only");
        delete.MessageText.ShouldContain("append-only");
        truncate.SqlState.ShouldBe(PostgresErrorCodes.InsufficientPrivilege, truncate.MessageText);
        (await app.WithDbAsync(db => db.AuditLog.CountAsync())).ShouldBeGreaterThan(0);
        (await app.VerifyAuditLogAsync()).ShouldBeNull();
    }

    [Fact]
    public async Task TheServersRoleCannotRewriteWhichMigrationsRan()
    {
        var refused = await RefusedAsync("DELETE FROM schema_migrations");

        refused.SqlState.ShouldBe(PostgresErrorCodes.InsufficientPrivilege);
    }

    [Fact]
    public async Task ADatabaseAnEarlierVersionMadeAsSuperuserIsHandedToTheOwnerRole()
    {
        var legacy = await TestPostgres.CreateEmptyDatabaseAsync();
        await SchemaMigrator.MigrateAsync(legacy);
        var cluster = await TestPostgres.ClusterAsync();

        await cluster.EnsureDatabaseAsync(new NpgsqlConnectionStringBuilder(legacy).Database!);
        var applied = await SchemaMigrator.MigrateAsync(await TestPostgres.As(legacy, DatabaseRole.Owner), EmbeddedPostgres.ApplicationRole, CancellationToken.None);

        applied.ShouldBe(0);
        (await ScalarAsync(legacy, "SELECT count(*) FROM pg_tables WHERE schemaname IN ('public', 'hangfire') AND tableowner <> 'crowd_owner'")).ShouldBe(0L);
        (await ScalarAsync(legacy, "SELECT pg_get_userbyid(datdba)::text FROM pg_database WHERE datname = current_database()")).ShouldBe("crowd_owner");
        await using var application = new NpgsqlConnection(await TestPostgres.As(legacy, DatabaseRole.Application));
        await application.OpenAsync();
        await using var insert = new NpgsqlCommand("INSERT INTO organisations (id, name, kind, created_at) VALUES (gen_random_uuid(), 'Kept', 1, now())", application);
        (await insert.ExecuteNonQueryAsync()).ShouldBe(1);
    }

    [Fact]
    public async Task TheDocumentedProductionRolesRunTheServer()
    {
        var cluster = new NpgsqlConnectionStringBuilder(await TestPostgres.CreateEmptyDatabaseAsync()) { Database = "postgres" };
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (owner, application, database) = ("owner_" + suffix, "app_" + suffix, "prod_" + suffix);
        await PsqlAsync(cluster, Path.Combine(ServerProcess.RepositoryRoot, "deploy", "postgres", "roles.sql"),
            ("owner", owner), ("owner_password", "owner-" + suffix), ("app", application), ("app_password", "app-" + suffix), ("database", database));
        var ownerConnection = new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { Database = database, Username = owner, Password = "owner-" + suffix };
        var applicationConnection = new NpgsqlConnectionStringBuilder(ownerConnection.ConnectionString) { Username = application, Password = "app-" + suffix };

        await using var production = new ProductionApp(ownerConnection.ConnectionString, applicationConnection.ConnectionString);
        await production.InitializeAsync();
        var signUp = await production.AnonymousClient().PostAsJsonAsync("/api/accounts/signup",
            new SignUpRequest(TestAccounts.NewEmail("prod"), TestAccounts.Password, "Wang Fang", new DateOnly(1995, 3, 8), Roles.Contributor));
        await AppendAsync(production);

        signUp.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await production.WithDbAsync(db => db.Database.SqlQuery<string>($"SELECT current_user AS \"Value\"").SingleAsync())).ShouldBe(application);
        (await ScalarAsync(cluster.ConnectionString.Replace("Database=postgres", $"Database={database}", StringComparison.Ordinal),
            "SELECT tableowner::text FROM pg_tables WHERE tablename = 'audit_log'")).ShouldBe(owner);
        var replica = await Should.ThrowAsync<PostgresException>(() =>
            production.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("SET session_replication_role = replica")));
        replica.SqlState.ShouldBe(PostgresErrorCodes.InsufficientPrivilege);
        (await Should.ThrowAsync<PostgresException>(() =>
            production.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DELETE FROM audit_log")))).MessageText.ShouldContain("append-only");
    }

    private Task<PostgresException> RefusedAsync(string sql) =>
        Should.ThrowAsync<PostgresException>(() => app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(sql)));

    private static async Task AppendAsync(CrowdApp server)
    {
        await using var scope = server.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AuditLog>().AppendAsync(AuditEvent.BySystem("test.event", "test", "1"), CancellationToken.None);
    }

    private static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private static async Task PsqlAsync(NpgsqlConnectionStringBuilder superuser, string file, params (string Name, string Value)[] variables)
    {
        var start = new ProcessStartInfo(Psql())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-X", "-v", "ON_ERROR_STOP=1", "-h", superuser.Host!, "-p", superuser.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "-U", superuser.Username!, "-d", "postgres", "-f", file })
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in variables)
        {
            start.ArgumentList.Add("-v");
            start.ArgumentList.Add($"{name}={value}");
        }
        start.Environment["PGPASSWORD"] = superuser.Password;
        using var psql = Process.Start(start)!;
        var output = psql.StandardOutput.ReadToEndAsync();
        var error = psql.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await psql.WaitForExitAsync(timeout.Token);
        psql.ExitCode.ShouldBe(0, await output + await error);
    }

    private static string Psql()
    {
        var configured = Environment.GetEnvironmentVariable("CROWD_PG_BIN");
        if (!string.IsNullOrEmpty(configured))
        {
            return Path.Combine(configured, "psql");
        }
        return Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin", "psql")).Where(File.Exists).OrderDescending().FirstOrDefault() ?? "psql"
            : "psql";
    }

    /// <summary>The server as production runs it: migrations as the owner role, everything else as the application role.</summary>
    private sealed class ProductionApp(string owner, string application) : CrowdApp(owner)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("ConnectionStrings:Crowd", application);
            builder.UseSetting("ConnectionStrings:CrowdOwner", ConnectionString);
        }
    }
}
