using Crowd.Server.Infrastructure.Database;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Infrastructure.Scheduling;

/// <summary>
/// The one background system: Hangfire on the platform's PostgreSQL (its own <see cref="Schema"/> schema, created with
/// the migrations under their lock). Every node can enqueue; a node with <c>Crowd:Scheduler:Enabled</c> runs the job
/// server that works the queue and fires the recurring jobs. Features add recurring jobs with
/// <see cref="AddScheduledJob{TJob}"/> and one-off jobs through <see cref="BackgroundJobs"/>.
/// </summary>
public static class Scheduling
{
    public const string Schema = "hangfire";

    /// <summary>
    /// Runs <typeparamref name="TJob"/> on the five-field cron expression (UTC) that <paramref name="cron"/> reads from the
    /// settings (a setting holding one carries <see cref="CronExpressionAttribute"/>, checked at start-up). With
    /// <paramref name="everyMissedRun"/>, each occurrence missed while no node ran (or while a run was retried) gets its
    /// own run, for the occurrence it was due; otherwise missed occurrences collapse into one run.
    /// </summary>
    public static WebApplicationBuilder AddScheduledJob<TJob>(this WebApplicationBuilder builder, string name, Func<CrowdOptions, string> cron,
        bool everyMissedRun = false)
        where TJob : class, IScheduledJob
    {
        builder.Services.AddKeyedScoped<IScheduledJob, TJob>(name);
        builder.Services.AddSingleton(new ScheduledJob(name, cron, everyMissedRun));
        return builder;
    }

    public static WebApplicationBuilder AddScheduling(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<JobStorage>(sp => CreateStorage(sp.GetRequiredService<CrowdDatabase>().ConnectionString,
            sp.GetRequiredService<IOptions<CrowdOptions>>().Value.Scheduler));
        // This host's own activator, so that jobs resolve their services from this host even when a process holds several
        // (the tests do); Hangfire's static defaults are never relied on.
        services.AddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((sp, config) => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseLogProvider(new HangfireLogs(sp.GetRequiredService<ILoggerFactory>())));
        services.AddScoped<BackgroundJobs>();
        services.AddScoped<ScheduledJobs>();
        services.AddHostedService<JobServer>();
        return builder;
    }

    public static PostgreSqlStorage CreateStorage(string connectionString, SchedulerOptions scheduler)
    {
        var options = new PostgreSqlStorageOptions
        {
            SchemaName = Schema,
            // Created by SchemaMigrator under the migration lock; Hangfire's own installer races on an empty database.
            PrepareSchemaIfNecessary = false,
            // LISTEN/NOTIFY: a job enqueued on any node starts at once instead of at the next poll.
            EnableLongPolling = true,
            QueuePollInterval = TimeSpan.FromSeconds(scheduler.PollSeconds),
            // A running job keeps itself invisible to other nodes; a node that dies gives its jobs up after this long.
            UseSlidingInvisibilityTimeout = true,
            InvisibilityTimeout = TimeSpan.FromSeconds(scheduler.TakeoverSeconds),
            // Hangfire's own locks are held for moments; a lock left by a killed node frees after this long.
            DistributedLockTimeout = TimeSpan.FromMinutes(1),
        };
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
    }
}
