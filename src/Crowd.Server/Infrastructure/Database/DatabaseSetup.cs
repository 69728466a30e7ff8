using Crowd.Server.Infrastructure.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Infrastructure.Database;

public static class DatabaseSetup
{
    public static IServiceCollection AddCrowdDatabase(this IServiceCollection services)
    {
        services.AddSingleton<CrowdDatabase>();
        services.AddDbContextPool<CrowdDb>((sp, options) =>
            options.UseNpgsql(sp.GetRequiredService<CrowdDatabase>().ConnectionString));
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        services.AddSingleton<KeyFiles>();
        services.AddSingleton<IValidateOptions<CrowdOptions>, KeyPlacement>();
        services.AddOptions<CrowdOptions>().ValidateOnStart();
        services.AddCrowdDataProtection();
        return services;
    }

    /// <summary>Starts the embedded PostgreSQL when no connection string is configured, then applies pending migrations.</summary>
    public static async Task UseCrowdDatabaseAsync(this WebApplication app)
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

/// <summary>Where the platform's database is: the configured server, or the embedded cluster it starts itself.</summary>
public sealed class CrowdDatabase(IConfiguration configuration, IOptions<CrowdOptions> options, IHostEnvironment environment,
    ILogger<CrowdDatabase> logger) : IAsyncDisposable
{
    private EmbeddedPostgres? _embedded;
    private string? _connectionString;

    public string ConnectionString => _connectionString
        ?? throw new InvalidOperationException("The database has not been started; call UseCrowdDatabaseAsync first.");

    public async Task StartAsync(CancellationToken ct)
    {
        var configured = configuration.GetConnectionString("Crowd");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            _connectionString = configured;
        }
        else
        {
            var dataDirectory = Path.Combine(RepositoryRoot(environment.ContentRootPath), options.Value.DataDirectory, "postgres");
            var started = System.Diagnostics.Stopwatch.StartNew();
            _embedded = await EmbeddedPostgres.StartAsync(dataDirectory, ct);
            _connectionString = _embedded.ConnectionString();
            await SchemaMigrator.EnsureDatabaseAsync(_connectionString, ct);
            logger.LogInformation("Embedded PostgreSQL ready on 127.0.0.1:{Port} in {Elapsed} ms, data in {DataDirectory}",
                _embedded.Port, started.ElapsedMilliseconds, _embedded.DataDirectory);
        }
        var applied = await SchemaMigrator.MigrateAsync(_connectionString, ct);
        logger.LogInformation("Schema up to date ({Applied} migrations applied now, {Total} known)", applied, SchemaMigrator.Migrations.Count);
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
