using Crowd.Server.Features.Audit;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Notifications;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Reviews;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Mail;
using Crowd.Server.Infrastructure.Scheduling;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Reviews;

public sealed class FraudAppealWindowTests(RecordingApp app) : IClassFixture<RecordingApp>
{
    [Fact]
    public async Task AnUnappealedFraudRejectionTakesThePayBackExactlyWhenTheFourteenDaysEndAndTellsTheContributor()
    {
        var (job, speaker, clip) = await ClipAsync();
        var rejectedAt = new DateTimeOffset(2030, 6, 1, 10, 0, 0, TimeSpan.Zero);
        var clock = new FakeTimeProvider(rejectedAt);
        (await WithAsync(clock, (reviews, _) => reviews.RejectAsync(job.OrganisationId, job.Requester.Id, clip, "duplicate",
            "Same take as the one before.", default))).Kind.ShouldBe(ReviewOutcomeKind.Ok);
        (await RejectionAsync(clip)).AppealBy.ShouldBe(rejectedAt.AddDays(14));
        var paid = await PayableAsync(speaker);

        clock.SetUtcNow(rejectedAt.AddDays(14) - TimeSpan.FromSeconds(1));
        (await WithAsync(clock, (_, window) => window.RunAsync(default))).ShouldBe(0);
        (await PayableAsync(speaker)).ShouldBe(paid);
        clock.Advance(TimeSpan.FromSeconds(1));
        (await WithAsync(clock, (_, window) => window.RunAsync(default))).ShouldBe(1);
        (await WithAsync(clock, (_, window) => window.RunAsync(default))).ShouldBe(0, "a rejection is settled once");

        // 6 s at 360.00 CNY an hour is 0.60 CNY, from the 6.00 CNY the session earned.
        (await PayableAsync(speaker)).ShouldBe(paid - 60);
        var rejection = await RejectionAsync(clip);
        rejection.PayReversedMinor.ShouldBe(60);
        rejection.PayTakenBackAt.ShouldBe(clock.GetUtcNow());
        (await app.WithDbAsync(db => db.Set<LedgerTransaction>().CountAsync(t => t.IdempotencyKey == $"review-reversal:{clip}"))).ShouldBe(1);
        var told = await ToldAsync(speaker.Id);
        told.Select(n => n.Kind).ShouldBe([NotificationKind.PayTakenBack, NotificationKind.ClipRejected]);
        told[1].Text.Lines.ShouldContain("You have until 2030-06-15 10:00 UTC to appeal. If you do not, the pay for this clip's time is withdrawn: a rejection on this ground means the clip should not have been paid.");
        told[0].Text.Title.ShouldBe("The pay for a rejected clip of \"Read short sentences\" was taken back");
        told[0].Text.Lines[0].ShouldContain("rejected as \"Duplicate of another take\", and it was not appealed within 14 days");
        told[0].Text.Lines[1].ShouldContain("0.60 CNY");
        told[0].Text.Link.ShouldBe($"/Reviews/Mine#clip-{clip}");
        var mail = await app.WithDbAsync(db => db.Set<OutboxMail>().Where(m => m.ToAddress == speaker.Email).Select(m => m.Subject).ToListAsync());
        mail.ShouldContain("The pay for a rejected clip of \"Read short sentences\" was taken back", "the one mechanism also mails it");
        (await app.WithDbAsync(db => db.AuditLog.AnyAsync(a => a.Action == "review.fraud_pay_taken_back" && a.SubjectId == clip.ToString()))).ShouldBeTrue();

        var appeal = await WithAsync(clock, (reviews, _) => reviews.AppealAsync(speaker.Id, clip, "It was a different take.", default));
        appeal.Kind.ShouldBe(ReviewOutcomeKind.Refused);
        appeal.Refusal.ShouldBe("The time to appeal this rejection has passed.");
    }

    [Fact]
    public async Task AnAppealSentInsideTheWindowKeepsThePayUntilAnAdminDecides()
    {
        var (job, speaker, clip) = await ClipAsync();
        var rejectedAt = new DateTimeOffset(2030, 7, 1, 10, 0, 0, TimeSpan.Zero);
        var clock = new FakeTimeProvider(rejectedAt);
        await WithAsync(clock, (reviews, _) => reviews.RejectAsync(job.OrganisationId, job.Requester.Id, clip, "not-live-voice", "Sounds synthetic.", default));
        var paid = await PayableAsync(speaker);

        clock.SetUtcNow(rejectedAt.AddDays(14) - TimeSpan.FromSeconds(1));
        (await WithAsync(clock, (reviews, _) => reviews.AppealAsync(speaker.Id, clip, "It is my own voice.", default))).Kind.ShouldBe(ReviewOutcomeKind.Ok);
        clock.SetUtcNow(rejectedAt.AddDays(30));
        (await WithAsync(clock, (_, window) => window.RunAsync(default))).ShouldBe(0);

        (await PayableAsync(speaker)).ShouldBe(paid);
        (await RejectionAsync(clip)).PayTakenBackAt.ShouldBeNull();
    }

    [Fact]
    public async Task ARejectionOnAGroundThatIsNotFraudNeverTakesPayBack()
    {
        var (job, speaker, clip) = await ClipAsync();
        var rejectedAt = new DateTimeOffset(2030, 8, 1, 10, 0, 0, TimeSpan.Zero);
        var clock = new FakeTimeProvider(rejectedAt);
        await WithAsync(clock, (reviews, _) => reviews.RejectAsync(job.OrganisationId, job.Requester.Id, clip, "silence", "Only silence.", default));
        var paid = await PayableAsync(speaker);

        clock.SetUtcNow(rejectedAt.AddDays(400));
        (await WithAsync(clock, (_, window) => window.RunAsync(default))).ShouldBe(0);

        (await RejectionAsync(clip)).AppealBy.ShouldBeNull();
        (await PayableAsync(speaker)).ShouldBe(paid);
        (await WithAsync(clock, (reviews, _) => reviews.AppealAsync(speaker.Id, clip, "I read it all.", default))).Kind.ShouldBe(ReviewOutcomeKind.Ok);
    }

    [Fact]
    public async Task ThePayTakenBackIsCappedByWhatIsStillPayable()
    {
        var (job, speaker, clip) = await ClipAsync();
        var rejectedAt = new DateTimeOffset(2030, 9, 1, 10, 0, 0, TimeSpan.Zero);
        var clock = new FakeTimeProvider(rejectedAt);
        await WithAsync(clock, (reviews, _) => reviews.RejectAsync(job.OrganisationId, job.Requester.Id, clip, "duplicate", "Same take again.", default));
        // Everything but 0.25 CNY was paid out meanwhile: money already paid is not clawed back.
        var paid = await PayableAsync(speaker);
        await app.WithDbAsync(db => LedgerWriter.PostAsync(db, LedgerPosting.Transfer(LedgerTransactionKind.PayoutCreated, "paid out", $"test-payout:{clip}",
            AccountRef.Payable(speaker.Id, "CNY"), AccountRef.InFlight("CNY"), paid - 25), rejectedAt.AddDays(1), default));

        clock.SetUtcNow(rejectedAt.AddDays(15));
        (await WithAsync(clock, (_, window) => window.RunAsync(default))).ShouldBe(1);

        (await RejectionAsync(clip)).PayReversedMinor.ShouldBe(25);
        (await PayableAsync(speaker)).ShouldBe(0);
        (await ToldAsync(speaker.Id))[0].Text.Lines[1].ShouldContain("0.25 CNY");
    }

    [Fact]
    public async Task ARejectionOnAGroundThatIsNotFraudTellsTheContributorTheyKeepThePay()
    {
        var (job, speaker, clip) = await ClipAsync();
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 10, 1, 10, 0, 0, TimeSpan.Zero));

        await WithAsync(clock, (reviews, _) => reviews.RejectAsync(job.OrganisationId, job.Requester.Id, clip, "wrong-prompt", "Another sentence.", default));

        var told = (await ToldAsync(speaker.Id)).ShouldHaveSingleItem();
        told.Text.Lines.ShouldContain("You are still paid for your time unless a rejection for fraud is upheld after an appeal. You can appeal once; an admin decides.");
        told.Text.Lines.ShouldNotContain(l => l.Contains("You have until", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheScheduledRunSettlesDueRejectionsWithTheServersClock()
    {
        var (job, speaker, clip) = await ClipAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(-15));
        await WithAsync(clock, (reviews, _) => reviews.RejectAsync(job.OrganisationId, job.Requester.Id, clip, "not-live-voice", "Synthetic.", default));

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var run = scope.ServiceProvider.GetRequiredKeyedService<IScheduledJob>(FraudAppealWindowJob.Name);
            run.ShouldBeOfType<FraudAppealWindowJob>();
            await run.RunAsync(DateTimeOffset.UtcNow, default);
        }

        (await RejectionAsync(clip)).PayTakenBackAt.ShouldNotBeNull();
        (await ToldAsync(speaker.Id))[0].Kind.ShouldBe(NotificationKind.PayTakenBack);
    }

    private async Task<(ReviewJob Job, Crowd.Server.Features.Accounts.CrowdUser Speaker, Guid Clip)> ClipAsync()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id, durationMs: 6_000, sessionActiveMs: 60_000);
        return (job, speaker, clip);
    }

    /// <summary>The review service and the window's run as the server builds them, on the test's clock.</summary>
    private async Task<T> WithAsync<T>(FakeTimeProvider clock, Func<ReviewService, FraudAppealWindow, Task<T>> act)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<CrowdDb>();
        var options = services.GetRequiredService<IOptions<CrowdOptions>>();
        var audit = new AuditLog(db, clock, services.GetRequiredService<AuditKey>());
        var reviews = new ReviewService(db, audit, services.GetRequiredService<ClipVault>(),
            services.GetRequiredService<Crowd.Server.Features.Notifications.Notifications>(), clock, options);
        return await act(reviews, new FraudAppealWindow(db, reviews, audit,
            services.GetRequiredService<Crowd.Server.Features.Notifications.Notifications>(), clock));
    }

    private async Task<IReadOnlyList<NotificationView>> ToldAsync(Guid userId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Crowd.Server.Features.Notifications.Notifications>().ListAsync(userId, default);
    }

    private Task<ClipRejection> RejectionAsync(Guid clip) =>
        app.WithDbAsync(db => db.Set<ClipRejection>().AsNoTracking().SingleAsync(r => r.ClipId == clip));

    private Task<long> PayableAsync(Crowd.Server.Features.Accounts.CrowdUser speaker) =>
        app.WithDbAsync(async db => (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(speaker.Id, "CNY"))).Minor);
}
