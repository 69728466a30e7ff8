using System.Data.Common;
using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using Crowd.Server.Infrastructure.Database;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace Crowd.Server.Infrastructure.Scheduling;

/// <summary>
/// The one way features start background work. A job about rows written in the open transaction is enqueued only when
/// that transaction commits, so it never runs before its rows are visible, and never for rows that were rolled back.
/// Each job re-checks its row when it runs; a recurring sweep picks up rows whose job was lost in a crash.
/// </summary>
public sealed class BackgroundJobs(IBackgroundJobClient client, CrowdDb db, ILogger<BackgroundJobs> logger)
{
    public void EnqueueAfterCommit<T>(Expression<Func<T, Task>> job)
    {
        if (db.Database.CurrentTransaction is { } transaction)
        {
            AfterCommit.Add(db, transaction, () => Create(c => c.Enqueue(job), typeof(T)));
        }
        else
        {
            Create(c => c.Enqueue(job), typeof(T));
        }
    }

    /// <summary>Runs the job at <paramref name="at"/> (within the scheduler's polling interval).</summary>
    public void Schedule<T>(Expression<Func<T, Task>> job, DateTimeOffset at) => Create(c => c.Schedule(job, at), typeof(T));

    private void Create(Func<IBackgroundJobClient, string> create, Type job)
    {
        try
        {
            create(client);
        }
        catch (BackgroundJobClientException e)
        {
            // The work that asked for the job is committed; failing it now would be a lie. The feature's sweep enqueues it later.
            logger.LogWarning(e, "Could not create a {Job} job now; the next sweep picks its work up", job.Name);
        }
    }
}

/// <summary>Runs actions registered against an EF transaction once it has committed; drops them when it does not.</summary>
public sealed class AfterCommit : DbTransactionInterceptor
{
    public static readonly AfterCommit Interceptor = new();

    private static readonly ConditionalWeakTable<IDbContextTransaction, List<Action>> s_pending = [];

    private AfterCommit()
    {
    }

    internal static void Add(DbContext db, IDbContextTransaction transaction, Action action)
    {
        var interceptors = db.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.Interceptors;
        if (interceptors?.Contains(Interceptor) != true)
        {
            // Without the interceptor the action would silently never run.
            throw new InvalidOperationException("This CrowdDb was built without the AfterCommit interceptor; build it through AddDatabase.");
        }
        s_pending.GetOrCreateValue(transaction).Add(action);
    }

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Run(eventData);

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Run(eventData);
        return Task.CompletedTask;
    }

    public override void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Drop(eventData);

    public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Drop(eventData);
        return Task.CompletedTask;
    }

    // The EF transaction is still current while its Committed event runs; it is cleared right after.
    private static void Run(TransactionEndEventData eventData)
    {
        if (eventData.Context?.Database.CurrentTransaction is { } transaction && s_pending.TryGetValue(transaction, out var actions))
        {
            s_pending.Remove(transaction);
            foreach (var action in actions)
            {
                action();
            }
        }
    }

    private static void Drop(TransactionEndEventData eventData)
    {
        if (eventData.Context?.Database.CurrentTransaction is { } transaction)
        {
            s_pending.Remove(transaction);
        }
    }
}
