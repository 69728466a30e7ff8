using System.Net;
using System.Net.Http.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.DeletionNotices;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Exports.Contributor;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Notifications;
using Crowd.Server.Features.Reviews;
using Crowd.Server.Features.Suppliers;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Scheduling;
using Crowd.Server.Tests.Features.Exports;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Features.Payouts;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Features.Reviews;
using Crowd.Server.Tests.Features.Suppliers;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Crowd.Server.Tests.Features.Recording.Consent.ConsentTestData;

namespace Crowd.Server.Tests.Features.Notifications;

/// <summary>Each kind of notification, caused by the action that causes it in the product, as its reader sees it.</summary>
public sealed class NotificationKindsTests(ExportsApp app) : IClassFixture<ExportsApp>
{
    private static readonly int[] s_noticeAgesInDays = [9, 8, 2];

    [Fact]
    public async Task ARejectedClipTellsItsContributorTheReasonByItsLabelAndWhereToAppeal()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id);

        await RejectAsync(job, clip, "wrong-prompt");

        var told = (await ToldAsync(speaker.Id)).ShouldHaveSingleItem();
        told.Kind.ShouldBe(NotificationKind.ClipRejected);
        told.Text.Title.ShouldBe("A clip was rejected: Read short sentences");
        told.Text.Lines[0].ShouldContain("Reason: Wrong prompt read.");
        told.Text.Lines.ShouldContain("The reviewer wrote: Heard it twice.");
        told.Text.Link.ShouldBe($"/Reviews/Mine#clip-{clip}");
        (await MailSubjectsAsync(speaker.Email!)).ShouldBe(["A clip was rejected: Read short sentences"]);
    }

    [Fact]
    public async Task ADecidedAppealTellsTheContributorTheOutcome()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id);
        await RejectAsync(job, clip, "duplicate");
        var contributor = await app.SignedInClientAsync(speaker.Email!);
        (await contributor.PostAsJsonAsync($"/api/reviews/clips/{clip}/appeal", new { note = "This is a different sentence." })).EnsureSuccessStatusCode();
        var admin = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);

        (await admin.PostAsJsonAsync($"/api/reviews/appeals/{clip}/decision", new { outcome = "reverse", note = "Not a duplicate." })).EnsureSuccessStatusCode();

        var told = (await ToldAsync(speaker.Id))[0];
        told.Kind.ShouldBe(NotificationKind.AppealDecided);
        told.Text.Title.ShouldBe("Your appeal was granted: Read short sentences");
        told.Text.Lines.ShouldContain("The admin wrote: Not a duplicate.");
    }

    [Fact]
    public async Task AFraudRejectionNotAppealedInTimeTellsItsContributorThePayWasTakenBack()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id, durationMs: 6_000, sessionActiveMs: 60_000);
        await RejectAsync(job, clip, "duplicate");
        (await ToldAsync(speaker.Id)).ShouldHaveSingleItem().Text.Lines.ShouldContain(l => l.StartsWith("You have until ", StringComparison.Ordinal));

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var services = scope.ServiceProvider;
            var window = new FraudAppealWindow(services.GetRequiredService<CrowdDb>(), services.GetRequiredService<ReviewService>(),
                services.GetRequiredService<Crowd.Server.Features.Audit.AuditLog>(), services.GetRequiredService<Crowd.Server.Features.Notifications.Notifications>(),
                new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(14).AddMinutes(1)));
            (await window.RunAsync(default)).ShouldBeGreaterThanOrEqualTo(1);
        }

        var told = (await ToldAsync(speaker.Id))[0];
        told.Kind.ShouldBe(NotificationKind.PayTakenBack);
        told.Text.Title.ShouldBe("The pay for a rejected clip of \"Read short sentences\" was taken back");
        told.Text.Lines[1].ShouldBe("As the rejection said, the pay for that clip's time, 0.60 CNY, has been taken back from your earnings not yet paid out.");
        told.Text.Link.ShouldBe($"/Reviews/Mine#clip-{clip}");
        (await MailSubjectsAsync(speaker.Email!)).ShouldContain("The pay for a rejected clip of \"Read short sentences\" was taken back");
    }

    [Fact]
    public async Task ABankPayoutTellsItsContributorWhenTheFileIsSentAndWhenTheBankPaidOnce()
    {
        var time = new FakeTimeProvider(MoneyWorld.ClockStart);
        var h = new PayoutHarness("", time);
        var contributor = Guid.Empty;
        await app.WithDbAsync(async db =>
        {
            var job = await MoneyWorld.JobAsync(db, hourlyRateMinor: 3000);
            contributor = await MoneyWorld.ContributorWithBankAccountAsync(db, "Wang Fang");
            await EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), contributor, job.Id, 60 * 60_000, time);
            await h.Runner(db).RunAsync("notify-" + Guid.NewGuid());
        });
        (await ToldAsync(contributor)).ShouldBeEmpty("a line in a file not yet sent has not left");

        await app.WithDbAsync(async db =>
        {
            var batch = (await h.Batches(db).ListAsync()).Single(b => db.Set<Crowd.Server.Features.Payouts.Payout>().Any(p => p.BatchId == b.Id && p.ContributorId == contributor));
            await h.Batches(db).MarkSentAsync(batch.Id, Guid.NewGuid());
            (await ToldAsync(contributor)).Select(n => n.Text.Title).ShouldBe(["A payout of 30.00 CNY is on its way"]);
            await h.Batches(db).ConfirmRemainingAsync(batch.Id);
            await h.Batches(db).ConfirmRemainingAsync(batch.Id);
        });

        (await ToldAsync(contributor)).Select(n => (n.Kind, n.Text.Title))
            .ShouldBe([(NotificationKind.PayoutPaid, "A payout of 30.00 CNY was paid"), (NotificationKind.PayoutSent, "A payout of 30.00 CNY is on its way")]);
    }

    [Fact]
    public async Task AGuardiansConfirmationTellsTheMinorTheyCanRecord()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var (client, child) = await SignedInContributorAsync(app, BornYearsAgo(12));
        var guardianEmail = $"guardian-{Guid.NewGuid():N}@example.test";
        (await AskGuardianAsync(client, job.Id, await ScreenAsync(client, job.Id), "Test contributor", guardianEmail, voiceCloning: false))
            .StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await ToldAsync(child.Id)).ShouldBeEmpty();
        var mail = await app.WithDbAsync(db => db.MailOutbox.AsNoTracking().SingleAsync(m => m.ToAddress == guardianEmail));
        var link = "/Guardian/" + GuardianToken(mail.Body);
        var guardian = app.AnonymousClient();

        using var confirmed = await guardian.PostFormAsync(link, PageForms.TokenIn(await guardian.GetPageAsync(link)), ("GuardianName", "Parent Of Test"));

        confirmed.StatusCode.ShouldBe(HttpStatusCode.OK);
        var told = (await ToldAsync(child.Id)).ShouldHaveSingleItem();
        told.Kind.ShouldBe(NotificationKind.GuardianConfirmed);
        told.Text.Title.ShouldBe("Your parent or guardian confirmed: you can record for Read short sentences");
        told.Text.Link.ShouldBe($"/Recording/{job.Id}");
    }

    [Fact]
    public async Task NewTermsTellEveryoneWhoConsentedToTheEarlierOnesAndNobodyWhoWithdrew()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.PublishedJobAsync(app);
        var consenter = await RecordingTestData.ContributorAsync(app, new TestJob(job.Id, job.Version, []));
        var withdrew = await RecordingTestData.ContributorAsync(app, new TestJob(job.Id, job.Version, []));
        await app.WithDbAsync(db => db.Consents.Where(c => c.ContributorId == withdrew.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.WithdrawnAt, DateTimeOffset.UtcNow)));

        (await requester.Client.PutAsJsonAsync($"/api/jobs/{job.Id}", new JobRequest(RetentionDays: 200))).EnsureSuccessStatusCode();

        var told = (await ToldAsync(consenter.Id)).ShouldHaveSingleItem();
        told.Kind.ShouldBe(NotificationKind.ConsentNeededAgain);
        told.Text.Lines[0].ShouldContain("(version 2)");
        told.Text.Link.ShouldBe($"/Recording/{job.Id}/Consent");
        (await ToldAsync(withdrew.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task AJobThatPausesItselfTellsItsRequestersAndWhoeverIsRecordingAndItsResumptionTellsTheRequesters()
    {
        var job = await ReviewTestData.JobAsync(app);
        var recording = await RecordingTestData.ContributorAsync(app, job.Job);
        await RecordingTestData.OpenSessionRowAsync(app, job.Job, recording.Id);
        var finished = await RecordingTestData.ContributorAsync(app, job.Job);

        await WithNotificationsAsync((db, n) => JobFunding.CheckNextHourAsync(db, n, job.Job.Id, peopleWorking: 1_000_000, TimeProvider.System));

        (await ToldAsync(job.Requester.Id)).Select(t => t.Kind).ShouldBe([NotificationKind.JobPaused]);
        var paused = (await ToldAsync(recording.Id)).ShouldHaveSingleItem();
        paused.Kind.ShouldBe(NotificationKind.JobPausedMidWork);
        paused.Text.Title.ShouldBe("Read short sentences is paused");
        (await ToldAsync(finished.Id)).ShouldBeEmpty();

        await WithNotificationsAsync((db, n) => JobFunding.CheckNextHourAsync(db, n, job.Job.Id, peopleWorking: 1, TimeProvider.System));

        (await ToldAsync(job.Requester.Id)).Select(t => t.Text.Title).ShouldBe(["Read short sentences resumed", "Read short sentences paused itself: its escrow runs low"]);
    }

    [Fact]
    public async Task AReadyExportTellsItsContributorUntilWhenTheLinkWorks()
    {
        var me = await RecordingTestData.ContributorAsync(app);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var exports = scope.ServiceProvider.GetRequiredService<ContributorExports>();
            var export = await exports.RequestAsync(me.Id, default);
            (await exports.PrepareAsync(export.Id, default)).ShouldBeTrue();
        }

        var told = (await ToldAsync(me.Id)).ShouldHaveSingleItem();
        told.Kind.ShouldBe(NotificationKind.ExportReady);
        told.Text.Title.ShouldBe("Your data is ready to download");
        told.Text.Lines[0].ShouldContain("The link works until ");
        told.Text.Link.ShouldBe("/Account/Export");
    }

    [Fact]
    public async Task AFundedJobTellsTheRequesterOnceThroughTheOneMechanism()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync(JobsTestData.ValidJob("Funded " + Guid.NewGuid().ToString("N")[..8]));
        await requester.Client.PutPromptsAsync(job.Id, "今天天气很好。\n");
        await app.WithDbAsync(db => JobsTestData.FundAsync(db, job.Id));

        for (var i = 0; i < 2; i++)
        {
            await using var scope = app.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<FundedJobs>().AfterFundingAsync(job.Id, default);
        }

        var told = (await ToldAsync(requester.User.Id)).ShouldHaveSingleItem();
        told.Kind.ShouldBe(NotificationKind.JobFunded);
        told.Text.Title.ShouldBe($"Your job \"{job.Title}\" is funded");
        told.Text.Link.ShouldBe($"/Jobs/Edit?id={job.Id}");
        (await MailSubjectsAsync(requester.User.Email!)).ShouldBe([$"Your job \"{job.Title}\" is funded"]);
    }

    [Fact]
    public async Task DeletionNoticesLeftUnacknowledgedAWeekRemindTheBuyersRequestersOnce()
    {
        var requester = await app.RequesterAsync();
        var now = DateTimeOffset.UtcNow;
        await app.WithDbAsync(async db =>
        {
            foreach (var age in s_noticeAgesInDays)
            {
                db.Add(new DeletionNotice { Id = Guid.CreateVersion7(), OrganisationId = requester.OrganisationId, Reason = DeletionReason.Withdrawal, ClipCount = 1, CreatedAt = now.AddDays(-age) });
            }
            await db.SaveChangesAsync();
        });

        var first = await RemindAsync(now);
        var again = await RemindAsync(now.AddHours(1));

        first.ShouldBeGreaterThanOrEqualTo(1);
        again.ShouldBe(0, "the same overdue notices are not told twice");
        var told = (await ToldAsync(requester.User.Id)).ShouldHaveSingleItem();
        told.Kind.ShouldBe(NotificationKind.DeletionNoticesOverdue);
        told.Text.Title.ShouldBe("2 deletion notices wait for acknowledgement");
        told.Text.Lines[0].ShouldStartWith("2 deletion notices are older than 7 days");
    }

    [Fact]
    public async Task AnInvitationTellsTheSupplierOnlyOnceFivePeopleJoinedThroughIt()
    {
        var supplier = await app.CreateOrganisationAsync(OrganisationKind.Supplier);
        var staff = await app.CreateUserAsync(Roles.Supplier, organisationId: supplier);
        string code;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var (invitation, errors) = await scope.ServiceProvider.GetRequiredService<SupplierAttributions>()
                .CreateInvitationAsync(supplier, staff.Id, "Spring fair", null, default);
            errors.ShouldBeEmpty();
            code = invitation!.Code;
        }

        for (var i = 1; i <= CellSuppression.MinPeople + 1; i++)
        {
            var person = await app.CreateUserAsync(Roles.Contributor);
            await using var scope = app.Services.CreateAsyncScope();
            (await scope.ServiceProvider.GetRequiredService<SupplierAttributions>().AttributeAsync(person.Id, code, default)).ShouldNotBeNull();
            (await ToldAsync(staff.Id)).Count.ShouldBe(i < CellSuppression.MinPeople ? 0 : 1, $"after {i} people");
        }

        var told = (await ToldAsync(staff.Id)).Single();
        told.Kind.ShouldBe(NotificationKind.InvitationUsed);
        told.Text.Title.ShouldBe("People are joining through your invitation Spring fair");
    }

    [Fact]
    public async Task AMonthsFiguresTellTheSuppliersThatHadPeopleThatMonthOnce()
    {
        var now = new DateTimeOffset(2031, 3, 2, 8, 0, 0, TimeSpan.Zero);
        var (active, idle) = (await app.CreateOrganisationAsync(OrganisationKind.Supplier), await app.CreateOrganisationAsync(OrganisationKind.Supplier));
        var activeStaff = await app.CreateUserAsync(Roles.Supplier, organisationId: active);
        var idleStaff = await app.CreateUserAsync(Roles.Supplier, organisationId: idle);
        await app.WithDbAsync(db => SupplierWorld.PeopleAsync(db, active, 1, now.AddDays(-20)));

        await FiguresAsync(now);
        await FiguresAsync(now.AddDays(1));

        var told = (await ToldAsync(activeStaff.Id)).ShouldHaveSingleItem();
        told.Kind.ShouldBe(NotificationKind.MonthlyFigures);
        told.Text.Title.ShouldBe("Figures for 2031-02 are available");
        (await ToldAsync(idleStaff.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task TheScheduledReminderRunTellsTheBuyersRequestersThroughTheJobServersEntryPoint()
    {
        var requester = await app.RequesterAsync();
        await app.WithDbAsync(async db =>
        {
            db.Add(new DeletionNotice { Id = Guid.CreateVersion7(), OrganisationId = requester.OrganisationId, Reason = DeletionReason.Withdrawal, ClipCount = 1, CreatedAt = DateTimeOffset.UtcNow.AddDays(-8) });
            await db.SaveChangesAsync();
        });

        await RunScheduledAsync(DeletionNoticeRemindersJob.Name);

        (await ToldAsync(requester.User.Id)).ShouldHaveSingleItem().Kind.ShouldBe(NotificationKind.DeletionNoticesOverdue);
        (await MailSubjectsAsync(requester.User.Email!)).ShouldContain("1 deletion notice waits for acknowledgement");
    }

    [Fact]
    public async Task TheScheduledFiguresRunTellsASupplierOfLastMonthThroughTheJobServersEntryPoint()
    {
        var supplier = await app.CreateOrganisationAsync(OrganisationKind.Supplier);
        var staff = await app.CreateUserAsync(Roles.Supplier, organisationId: supplier);
        await app.WithDbAsync(db => SupplierWorld.PeopleAsync(db, supplier, 1, DateTimeOffset.UtcNow.AddDays(-40)));

        await RunScheduledAsync(MonthlyFiguresJob.Name);
        await RunScheduledAsync(MonthlyFiguresJob.Name);

        (await ToldAsync(staff.Id)).ShouldHaveSingleItem().Kind.ShouldBe(NotificationKind.MonthlyFigures);
    }

    private async Task RejectAsync(ReviewJob job, Guid clip, string reason)
    {
        var requester = await app.SignedInClientAsync(job.Requester.Email!);
        (await requester.PostAsJsonAsync($"/api/reviews/clips/{clip}/reject", new { reason, note = "Heard it twice." })).StatusCode.ShouldBe(HttpStatusCode.NoContent);
    }

    private async Task<int> RemindAsync(DateTimeOffset now)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CrowdDb>();
        return await new DeletionNoticeReminders(db, scope.ServiceProvider.GetRequiredService<Crowd.Server.Features.Notifications.Notifications>(), new FakeTimeProvider(now))
            .TellOverdueAsync(default);
    }

    private async Task FiguresAsync(DateTimeOffset now)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CrowdDb>();
        await new SupplierNotices(db, scope.ServiceProvider.GetRequiredService<Crowd.Server.Features.Notifications.Notifications>(), new FakeTimeProvider(now))
            .MonthlyFiguresAsync(default);
    }

    private async Task RunScheduledAsync(string name)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ScheduledJobs>().RunAsync(name, null, default);
    }

    private async Task WithNotificationsAsync(Func<CrowdDb, Crowd.Server.Features.Notifications.Notifications, Task> work)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await work(scope.ServiceProvider.GetRequiredService<CrowdDb>(), scope.ServiceProvider.GetRequiredService<Crowd.Server.Features.Notifications.Notifications>());
    }

    private async Task<IReadOnlyList<NotificationView>> ToldAsync(Guid userId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Crowd.Server.Features.Notifications.Notifications>().ListAsync(userId, default);
    }

    private Task<List<string>> MailSubjectsAsync(string to) =>
        app.WithDbAsync(db => db.MailOutbox.AsNoTracking().Where(m => m.ToAddress == to).OrderBy(m => m.CreatedAt).Select(m => m.Subject).ToListAsync());
}
