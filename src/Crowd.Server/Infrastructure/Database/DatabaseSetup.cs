using Crowd.Server.Infrastructure.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Infrastructure.Database;

public static class DatabaseSetup
{
    public static WebApplicationBuilder AddDatabase(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<CrowdDatabase>();
        services.AddDbContextPool<CrowdDb>((sp, options) =>
            options.UseNpgsql(sp.GetRequiredService<CrowdDatabase>().ConnectionString)
                .AddInterceptors(Scheduling.AfterCommit.Interceptor));
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        return builder;
    }

    /// <summary>Starts the embedded PostgreSQL when no connection string is configured, then applies pending migrations.</summary>
    public static async Task UseDatabaseAsync(this WebApplication app)
    {
        var database = app.Services.GetRequiredService<CrowdDatabase>();
        await database.StartAsync(app.Lifetime.ApplicationStopping);
        await using var scope = app.Services.CreateAsyncScope();
        var encrypted = await DataProtectionSetup.EncryptStoredKeysAsync(scope.ServiceProvider.GetRequiredService<CrowdDb>(),
            new KeyRingEncryptor(app.Services.GetRequiredService<KeyRingKey>()), app.Lifetime.ApplicationStopping);
        if (encrypted > 0)
        {
            app.Logger.LogInformation("Encrypted {Count} data-protection keys that were stored in the clear", encrypted);
        }
    }
}

/// <summary>
/// Where the platform's database is: the configured server, or the embedded cluster it starts itself. Migrations run as
/// the schema's owner (ConnectionStrings:CrowdOwner); the server runs as the application role (ConnectionStrings:Crowd).
/// </summary>
public sealed class CrowdDatabase(IOptions<CrowdOptions> options, IHostEnvironment environment,
    ILogger<CrowdDatabase> logger) : IAsyncDisposable
{
    private EmbeddedPostgres? _embedded;
    private string? _connectionString;
    private string? _ownerConnectionString;

    /// <summary>The server's own connections: the application role, which can change rows but not the schema or its guards.</summary>
    public string ConnectionString => _connectionString
        ?? throw new InvalidOperationException("The database has not been started; call UseDatabaseAsync first.");

    /// <summary>The schema owner's connection, for changing the schema (migrations) and nothing else.</summary>
    public string OwnerConnectionString => _ownerConnectionString
        ?? throw new InvalidOperationException("The database has not been started; call UseDatabaseAsync first.");

    public async Task StartAsync(CancellationToken ct)
    {
        var configured = options.Value.ConnectionStrings.Crowd;
        if (!string.IsNullOrWhiteSpace(configured))
        {
            _connectionString = configured;
            var owner = options.Value.ConnectionStrings.CrowdOwner;
            _ownerConnectionString = string.IsNullOrWhiteSpace(owner) ? configured : owner;
        }
        else
        {
            var dataDirectory = Path.Combine(RepositoryRoot(environment.ContentRootPath), options.Value.DataDirectory, "postgres");
            var started = System.Diagnostics.Stopwatch.StartNew();
            _embedded = await EmbeddedPostgres.StartAsync(dataDirectory, ct);
            await _embedded.EnsureDatabaseAsync("crowd", ct);
            _connectionString = _embedded.ConnectionString("crowd", DatabaseRole.Application);
            _ownerConnectionString = _embedded.ConnectionString("crowd", DatabaseRole.Owner);
            logger.LogInformation("Embedded PostgreSQL ready on 127.0.0.1:{Port} in {Elapsed} ms, data in {DataDirectory}",
                _embedded.Port, started.ElapsedMilliseconds, _embedded.DataDirectory);
        }
        var runtimeRole = new Npgsql.NpgsqlConnectionStringBuilder(_connectionString).Username;
        var ownerRole = new Npgsql.NpgsqlConnectionStringBuilder(_ownerConnectionString).Username;
        var applicationRole = runtimeRole is not null && runtimeRole != ownerRole ? runtimeRole : null;
        var applied = await SchemaMigrator.MigrateAsync(_ownerConnectionString, applicationRole, ct);
        logger.LogInformation("Schema up to date ({Applied} migrations applied now, {Total} known)", applied, SchemaMigrator.Migrations.Count);
        await WarnWhenPrivilegedAsync(ct);
    }

    /// <summary>A server that owns the schema or is a superuser can switch off the audit log's guard: say so at every start.</summary>
    private async Task WarnWhenPrivilegedAsync(CancellationToken ct)
    {
        await using var connection = new Npgsql.NpgsqlConnection(_connectionString);
        await connection.OpenAsync(ct);
        var roles = connection.QueryAsync($"""
            SELECT current_user, r.rolsuper OR EXISTS (SELECT 1 FROM pg_tables t WHERE t.tablename = 'audit_log' AND t.tableowner = current_user)
            FROM pg_roles r WHERE r.rolname = current_user
            """, r => (Name: r.GetString(0), Privileged: r.GetBoolean(1)), ct);
        await foreach (var role in roles)
        {
            if (role.Privileged)
            {
                logger.LogWarning("The server connects to PostgreSQL as {Role}, a superuser or the schema's owner: it could switch off the append-only " +
                    "guards of the audit log and the ledger. Run it as an application role (ConnectionStrings__Crowd) and migrations as the owner " +
                    "(ConnectionStrings__CrowdOwner); SECURITY.md has the SQL.", role.Name);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_embedded is not null)
        {
            logger.LogInformation("Stopping embedded PostgreSQL");
            await _embedded.DisposeAsync();
        }
    }

    /// <summary>The folder holding Crowd.sln above the content root, so `dotnet run` and a published build share one data folder.</summary>
    internal static string RepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Crowd.sln")))
            {
                return dir.FullName;
            }
        }
        return start;
    }
}

public sealed class DatabaseHealthCheck(CrowdDb db) : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    public async Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await db.Database.CanConnectAsync(cancellationToken)
                ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy()
                : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("The database does not answer.");
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
        {
            return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("The database does not answer.", e);
        }
    }
}
