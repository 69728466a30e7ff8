using Crowd.Server.Features.DeletionNotices;
using Crowd.Server.Features.Exports.Contributor;
using Crowd.Server.Features.Exports.Datasets;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Features.Retention;
using Crowd.Server.Features.Reviews;
using Crowd.Server.Features.Suppliers;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Mail;
using Crowd.Server.Infrastructure.Scheduling;
using Crowd.Server.Tests.Infrastructure;
using Hangfire;
using Hangfire.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Scheduling;

/// <summary>
/// A node with its job server on, on a database where an older build left a recurring job this build no longer has.
/// The schedule is checked; nothing fires during the test (the crons are minutes or hours apart).
/// </summary>
public sealed class SchedulingNodeApp : CrowdApp
{
    public const string Abandoned = "quartz-era-report";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var storage = Crowd.Server.Infrastructure.Scheduling.Scheduling.CreateStorage(ConnectionString, new SchedulerOptions());
        new RecurringJobManager(storage).AddOrUpdate(Abandoned, () => Console.WriteLine("left over"), Cron.Hourly());
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crowd:Scheduler:Enabled", "true");
        builder.UseSetting("Crowd:Scheduler:Workers", "1");
    }
}

public sealed class JobServerTests(SchedulingNodeApp app) : IClassFixture<SchedulingNodeApp>
{
    [Fact]
    public void ANodeWithTheSchedulerOnRegistersEveryScheduledJobInUtcAndDropsOnesThisBuildNoLongerHas()
    {
        var options = app.Services.GetRequiredService<IOptions<CrowdOptions>>().Value;
        using var connection = app.Services.GetRequiredService<JobStorage>().GetConnection();

        var recurring = connection.GetRecurringJobs().ToDictionary(j => j.Id);

        recurring.Keys.ShouldBe([PayoutJob.Name, RetentionJob.Name, AutoAcceptJob.Name, FraudAppealWindowJob.Name, WebhookSweepJob.Name, MailSweepJob.Name,
            ContributorExportsJob.Name, DatasetPackagesJob.Name, DeletionNoticeRemindersJob.Name, MonthlyFiguresJob.Name], ignoreOrder: true);
        recurring[PayoutJob.Name].Cron.ShouldBe("0 * * * *");
        recurring[PayoutJob.Name].Cron.ShouldBe(options.Payouts.Cron);
        recurring[RetentionJob.Name].Cron.ShouldBe("15 3 * * *");
        recurring[AutoAcceptJob.Name].Cron.ShouldBe("5 * * * *");
        recurring[FraudAppealWindowJob.Name].Cron.ShouldBe("35 * * * *");
        recurring[DeletionNoticeRemindersJob.Name].Cron.ShouldBe("40 * * * *");
        recurring[MonthlyFiguresJob.Name].Cron.ShouldBe("30 2 * * *");
        recurring.Values.ShouldAllBe(j => j.TimeZoneId == "UTC");
        recurring.Values.ShouldAllBe(j => j.Job.Type == typeof(ScheduledJobs));
        recurring.ShouldNotContainKey(SchedulingNodeApp.Abandoned);
    }

    [Fact]
    public async Task ANodeWithTheSchedulerOnRunsAJobServer()
    {
        var monitoring = app.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        // The server announces itself from its own thread a moment after the host has started.
        await Eventually.TrueAsync(() => Task.FromResult(monitoring.Servers().Count > 0), "the job server to announce itself", TimeSpan.FromSeconds(30));

        monitoring.Servers().ShouldHaveSingleItem().Name.ShouldStartWith(Environment.MachineName);
    }
}

/// <summary>The default test host is a node with Crowd:Scheduler:Enabled=false.</summary>
public sealed class SchedulerOffTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task ANodeWithTheSchedulerOffRunsNoJobsButStillEnqueuesThem()
    {
        var storage = app.Services.GetRequiredService<JobStorage>();
        var exportId = Guid.CreateVersion7();

        await using (var scope = app.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<BackgroundJobs>()
                .EnqueueAfterCommit<ContributorExports>(e => e.PrepareAsync(exportId, CancellationToken.None));
        }

        storage.GetMonitoringApi().Servers().ShouldBeEmpty();
        var queued = storage.GetMonitoringApi().EnqueuedJobs("default", 0, 10_000)
            .Where(j => j.Value.Job.Args[0] is Guid id && id == exportId).ShouldHaveSingleItem();
        queued.Value.InEnqueuedState.ShouldBeTrue("it waits for a node that runs jobs");
    }

    [Fact]
    public async Task AnInvalidCronStopsTheServerFromStartingAndNamesTheSetting()
    {
        await using var misconfigured = new CrowdApp();
        await misconfigured.InitializeAsync();
        await using var withSetting = misconfigured.WithWebHostBuilder(b => b.UseSetting("Crowd:Payouts:Cron", "every hour"));

        var error = Should.Throw<OptionsValidationException>(() => withSetting.Services);

        error.Message.ShouldContain("Crowd:Payouts:Cron is not a cron expression Crowd can use");
    }
}

/// <summary>
/// Jobs about rows written in a transaction are enqueued when it commits and never when it rolls back: shown with
/// mail, which is queued inside its sender's transaction and sent by a job when an SMTP server is configured.
/// </summary>
public sealed class MailApp : CrowdApp
{
    public List<OutboxMail> Sent { get; } = [];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crowd:Mail:Smtp:Host", "smtp.example.test");
        builder.ConfigureServices(s => s.AddSingleton<IMailTransport>(new RecordingTransport(Sent)));
    }

    private sealed class RecordingTransport(List<OutboxMail> sent) : IMailTransport
    {
        public Task SendAsync(OutboxMail mail, CancellationToken ct)
        {
            lock (sent)
            {
                sent.Add(mail);
            }
            return Task.CompletedTask;
        }
    }
}

public sealed class AfterCommitTests(MailApp app) : IClassFixture<MailApp>
{
    [Fact]
    public async Task AMailQueuedInATransactionIsEnqueuedForSendingOnlyOnceThatCommits()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CrowdDb>();
        var outbox = scope.ServiceProvider.GetRequiredService<Outbox>();
        Guid committed, rolledBack;

        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            committed = await outbox.EnqueueAsync("li.wei@example.test", "Committed", "Hello", default);
            Enqueued(committed).ShouldBe(0, "the mail's row is not visible to a job before the commit");
            await tx.CommitAsync();
        }
        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            rolledBack = await outbox.EnqueueAsync("li.wei@example.test", "Rolled back", "Hello", default);
            await tx.RollbackAsync();
        }
        await using (await db.Database.BeginTransactionAsync())
        {
            // Disposed without a commit, as when the work in it throws.
            await outbox.EnqueueAsync("li.wei@example.test", "Abandoned", "Hello", default);
        }

        Enqueued(committed).ShouldBe(1);
        Enqueued(rolledBack).ShouldBe(0);
        MailJobs().Count.ShouldBe(1, "nothing for the abandoned transaction either");
    }

    [Fact]
    public async Task AQueuedMailIsSentByItsJobOnceAndASecondRunSendsNothing()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var id = await scope.ServiceProvider.GetRequiredService<Outbox>().EnqueueAsync("wang.fang@example.test", "Your consent", "Hello", default);
        var delivery = scope.ServiceProvider.GetRequiredService<MailDelivery>();

        (await delivery.SendAsync(id, default)).ShouldBeTrue();
        (await delivery.SendAsync(id, default)).ShouldBeFalse();

        app.Sent.Count(m => m.Id == id).ShouldBe(1);
        (await app.WithDbAsync(db => db.MailOutbox.FindAsync(id).AsTask()))!.SentAt.ShouldNotBeNull();
    }

    private int Enqueued(Guid mailId) => MailJobs().Count(j => j.Args[0] is Guid id && id == mailId);

    private List<Hangfire.Common.Job> MailJobs() =>
        app.Services.GetRequiredService<JobStorage>().GetMonitoringApi().EnqueuedJobs("default", 0, 10_000)
            .Select(j => j.Value.Job).Where(j => j.Type == typeof(MailDelivery)).ToList();
}

/// <summary>Hangfire's schema is created by the migrations, under their lock, so nodes starting together never race for it.</summary>
public sealed class HangfireSchemaTests
{
    [Fact]
    public async Task TwoServersStartingTogetherOnAnEmptyDatabaseBothComeUpWithoutAUniqueViolation()
    {
        var empty = await TestPostgres.CreateEmptyDatabaseAsync();
        var environment = new Dictionary<string, string> { ["ConnectionStrings__Crowd"] = empty };

        var started = await Task.WhenAll(ServerProcess.StartAsync(environment), ServerProcess.StartAsync(environment));

        await using (started[0].Server)
        await using (started[1].Server)
        {
            foreach (var (server, _) in started)
            {
                server.Output.ShouldNotContain("23505");
                server.Output.ShouldNotContain("duplicate key", Case.Insensitive);
                server.Output.ShouldNotContain("unique", Case.Insensitive);
            }
        }
        await using var db = MoneyWorld.Open(empty);
        (await db.Database.SqlQuery<int>($"""SELECT version AS "Value" FROM hangfire.schema""").SingleAsync()).ShouldBeGreaterThanOrEqualTo(20);
    }

    [Fact]
    public async Task NoQuartzTableRemains()
    {
        var migrated = await TestPostgres.CreateDatabaseAsync();
        await using var db = MoneyWorld.Open(migrated);

        (await db.Database.SqlQuery<long>($"""SELECT count(*) AS "Value" FROM information_schema.tables WHERE table_name LIKE 'qrtz\_%'""").SingleAsync())
            .ShouldBe(0);
    }
}
