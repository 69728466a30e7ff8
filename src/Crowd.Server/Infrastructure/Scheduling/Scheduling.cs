using Crowd.Server.Infrastructure.Database;
using Npgsql;
using Quartz;

namespace Crowd.Server.Infrastructure.Scheduling;

/// <summary>
/// The one Quartz scheduler: persistent store in the platform's PostgreSQL, clustered, so each scheduled fire runs on
/// one node only. Features add their jobs with <see cref="AddScheduledJob{TJob}"/>; Program.cs adds the scheduler last.
/// </summary>
public static class Scheduling
{
    public const string Group = "crowd";
    private const string RegistrationsKey = "crowd:scheduled-jobs";

    public static JobKey KeyOf(string name) => new(name, Group);

    /// <summary>Runs <typeparamref name="TJob"/> on the Quartz cron expression (seconds first, UTC).</summary>
    public static WebApplicationBuilder AddScheduledJob<TJob>(this WebApplicationBuilder builder, string name, string cron)
        where TJob : class, IJob
    {
        Registrations(builder).Add(q =>
        {
            var key = KeyOf(name);
            q.AddJob<TJob>(j => j.WithIdentity(key).StoreDurably().RequestRecovery());
            q.AddTrigger(t => t.ForJob(key).WithIdentity(name, Group).WithCronSchedule(cron));
        });
        return builder;
    }

    public static WebApplicationBuilder AddCrowdScheduler(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(CrowdOptions.Section).Get<CrowdOptions>() ?? new CrowdOptions();
        if (!options.Scheduler.Enabled)
        {
            return builder;
        }
        var registrations = Registrations(builder);
        builder.Services.AddQuartz(q =>
        {
            q.ConfigureScheduler(s => s.InstanceName = Group);
            q.UsePersistentStore(store =>
            {
                // The connection string is known only once the database has started (it may be the embedded one).
                store.UsePostgres(o => o.DataSourceFactory = sp => NpgsqlDataSource.Create(sp.GetRequiredService<CrowdDatabase>().ConnectionString));
                store.UseClustering();
            });
            foreach (var register in registrations)
            {
                register(q);
            }
        });
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        return builder;
    }

    private static List<Action<IQuartzBuilder>> Registrations(WebApplicationBuilder builder)
    {
        if (!builder.Host.Properties.TryGetValue(RegistrationsKey, out var list))
        {
            list = new List<Action<IQuartzBuilder>>();
            builder.Host.Properties[RegistrationsKey] = list;
        }
        return (List<Action<IQuartzBuilder>>)list;
    }
}
