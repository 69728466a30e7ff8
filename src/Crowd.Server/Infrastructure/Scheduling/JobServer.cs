using Hangfire;
using Hangfire.Common;
using Hangfire.Storage;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Infrastructure.Scheduling;

/// <summary>
/// On a node with the scheduler on: writes the recurring jobs to the shared storage (so the schedule always matches
/// this build's settings) and runs the Hangfire server that works the queue and fires them. Hangfire's recurring jobs
/// and queues live in PostgreSQL, so each fire and each enqueued job runs on one node only, however many run this.
/// </summary>
public sealed class JobServer(JobStorage storage, JobActivator activator, IJobFilterProvider filters, IRecurringJobManager recurring,
    IEnumerable<ScheduledJob> scheduled, IHostApplicationLifetime lifetime, IOptions<CrowdOptions> options, ILogger<JobServer> logger)
    : IHostedService, IDisposable
{
    private BackgroundJobServer? _server;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (!settings.Scheduler.Enabled)
        {
            logger.LogInformation("Scheduler off on this node (Crowd:Scheduler:Enabled=false): it enqueues jobs but runs none");
            return Task.CompletedTask;
        }
        RegisterRecurringJobs(settings);
        // Started once the host is up, so that no job runs against a half-started node.
        lifetime.ApplicationStarted.Register(() => _server = new BackgroundJobServer(new BackgroundJobServerOptions
        {
            ServerName = $"{Environment.MachineName}:{Environment.ProcessId}",
            WorkerCount = settings.Scheduler.Workers,
            SchedulePollingInterval = TimeSpan.FromSeconds(settings.Scheduler.PollSeconds),
            // As long as the host gives its services to stop: running jobs get that long to finish.
            ShutdownTimeout = TimeSpan.FromSeconds(30),
            Activator = activator,
            FilterProvider = filters,
        }, storage, []));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { } server)
        {
            server.SendStop();
            await server.WaitForShutdownAsync(cancellationToken);
        }
    }

    public void Dispose() => _server?.Dispose();

    private void RegisterRecurringJobs(CrowdOptions settings)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var job in scheduled)
        {
            names.Add(job.Name);
            recurring.AddOrUpdate<ScheduledJobs>(job.Name, s => s.RunAsync(job.Name, null, CancellationToken.None), job.Cron(settings),
                new RecurringJobOptions
                {
                    TimeZone = TimeZoneInfo.Utc,
                    MisfireHandling = job.EveryMissedRun ? MisfireHandlingMode.Strict : MisfireHandlingMode.Relaxed,
                });
        }
        // A job renamed or removed in this build must not keep firing from an older registration.
        using var connection = storage.GetConnection();
        foreach (var stale in connection.GetRecurringJobs().Where(j => !names.Contains(j.Id)))
        {
            logger.LogWarning("Removing recurring job {Job}: this build does not schedule it", stale.Id);
            recurring.RemoveIfExists(stale.Id);
        }
    }
}
