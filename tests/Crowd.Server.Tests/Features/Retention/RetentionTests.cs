using Crowd.Server.Features.DeletionNotices;
using Crowd.Server.Features.Retention;
using Crowd.Server.Features.Withdrawal;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Features.Withdrawal;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Retention;

/// <summary>The server on a clock the test moves (started at the real time, so that sign-in cookies stay valid).</summary>
public sealed class RetentionApp : RecordingApp
{
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(Time));
    }
}

public sealed class RetentionTests(RetentionApp app) : IClassFixture<RetentionApp>
{
    private static readonly DateTimeOffset s_recorded = new(2026, 1, 10, 9, 30, 0, TimeSpan.Zero);

    [Fact]
    public void AClipIsDestroyedAtTheEarlierOfItsJobsRetentionAndThreeYearsAfterTheLastInteraction()
    {
        RetentionRule.DestroyAfter(s_recorded, 30, s_recorded.AddDays(2)).ShouldBe((s_recorded.AddDays(30), RetentionLimit.JobRetention));
        RetentionRule.DestroyAfter(s_recorded, 1095, s_recorded).At.ShouldBe(s_recorded.AddDays(1095));
        // Three calendar years after an interaction long before the clip's date bound first (e.g. imported data).
        var longAgo = s_recorded.AddYears(-2);
        RetentionRule.DestroyAfter(s_recorded, 1095, longAgo).ShouldBe((longAgo.AddYears(3), RetentionLimit.Inactivity));
        RetentionRule.DestroyAfter(new DateTimeOffset(2028, 2, 29, 0, 0, 0, TimeSpan.Zero), 1095, new DateTimeOffset(2028, 2, 29, 0, 0, 0, TimeSpan.Zero))
            .At.ShouldBe(new DateTimeOffset(2031, 2, 28, 0, 0, 0, TimeSpan.Zero), "a leap day's anniversary is the 28th; 1,095 days from it is later");
    }

    [Fact]
    public async Task TheRetentionRunDestroysExpiredAudioAndLeavesTheRest()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 3, adjust: j => j.Terms = j.Terms with { RetentionDays = 30 });
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var now = app.Time.GetUtcNow();
        var expired = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, prompt: 0, recordedAt: now.AddDays(-30));
        var boundary = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, prompt: 1, recordedAt: now.AddDays(-30).AddSeconds(1));
        var fresh = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, prompt: 2, recordedAt: now.AddDays(-1));
        var buyer = await app.CreateOrganisationAsync();
        await WithdrawalTestData.ExportedToAsync(app, buyer, expired, fresh);

        var run = await RunAsync();

        run.ClipsDestroyed.ShouldBe(1);
        var gone = await WithdrawalTestData.ReloadAsync(app, expired.Id);
        gone.WrappedKey.ShouldBeNull();
        gone.AudioDestroyedAt!.Value.ShouldBe(now, TimeSpan.FromMilliseconds(1));
        gone.WithdrawnAt.ShouldBeNull("retention is not a withdrawal");
        (await WithdrawalTestData.ReadAudioAsync(app, gone)).ShouldBeNull();
        File.Exists(WithdrawalTestData.BlobPath(app, expired)).ShouldBeFalse();
        (await WithdrawalTestData.ReadAudioAsync(app, await WithdrawalTestData.ReloadAsync(app, boundary.Id))).ShouldNotBeNull("one second short of 30 days");
        (await WithdrawalTestData.ReadAudioAsync(app, await WithdrawalTestData.ReloadAsync(app, fresh.Id))).ShouldNotBeNull();
        var audit = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(e => e.SubjectId == expired.Id.ToString()).OrderBy(e => e.Seq).ToListAsync());
        audit.Select(e => e.Action).ShouldBe(["retention.destroyed", "clip.key_destroyed", "clip.file_deleted"]);
        audit[0].ActorKind.ShouldBe("system");
        audit[0].Details.ShouldContain("job retention of 30 days");
        var notice = await app.WithDbAsync(db => db.Set<DeletionNotice>().SingleAsync(n => n.OrganisationId == buyer));
        notice.Reason.ShouldBe(DeletionReason.Retention);
        notice.ClipCount.ShouldBe(1);
    }

    [Fact]
    public async Task RunningAgainDestroysNothingNewUntilTheClockPassesTheNextDate()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 2, adjust: j => j.Terms = j.Terms with { RetentionDays = 10 });
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var now = app.Time.GetUtcNow();
        var first = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, prompt: 0, recordedAt: now.AddDays(-11));
        var second = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, prompt: 1, recordedAt: now.AddDays(-9));
        await RunAsync();
        var auditBefore = await app.WithDbAsync(db => db.AuditLog.CountAsync());

        (await RunAsync()).ClipsDestroyed.ShouldBe(0);
        (await app.WithDbAsync(db => db.AuditLog.CountAsync())).ShouldBe(auditBefore, "an idle run writes nothing");
        (await WithdrawalTestData.ReloadAsync(app, second.Id)).WrappedKey.ShouldNotBeNull();
        app.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        (await RunAsync()).ClipsDestroyed.ShouldBeGreaterThanOrEqualTo(1);

        (await WithdrawalTestData.ReloadAsync(app, first.Id)).WrappedKey.ShouldBeNull();
        (await WithdrawalTestData.ReloadAsync(app, second.Id)).WrappedKey.ShouldBeNull();
    }

    [Fact]
    public async Task AFileLeftBehindByACrashAfterTheKeyWasDestroyedIsSweptByTheNextRun()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var clip = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id);
        // The transaction commits, then the process dies before deleting the file.
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Crowd.Server.Infrastructure.Database.CrowdDb>();
            await using var tx = await db.Database.BeginTransactionAsync();
            await scope.ServiceProvider.GetRequiredService<ClipDestruction>().DestroyAsync(
                [new ClipToDestroy(clip.Id, job.Id, clip.StorageKey, true)], DeletionReason.Withdrawal, Actor.User(contributor.Id), CancellationToken.None);
            await tx.CommitAsync();
        }
        File.Exists(WithdrawalTestData.BlobPath(app, clip)).ShouldBeTrue();

        var run = await RunAsync();

        run.FilesDeleted.ShouldBeGreaterThanOrEqualTo(1);
        File.Exists(WithdrawalTestData.BlobPath(app, clip)).ShouldBeFalse();
        (await app.WithDbAsync(db => db.Set<ClipFileDeletion>().SingleAsync(d => d.ClipId == clip.Id))).DeletedAt.ShouldNotBeNull();
    }

    [Fact]
    public async Task MyDataShowsTheDateEachClipWillBeDestroyedAtTheLatest()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, adjust: j => j.Terms = j.Terms with { RetentionDays = 90 });
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var recorded = app.Time.GetUtcNow().AddDays(-1);
        await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, recordedAt: recorded);
        var client = await app.SignedInClientAsync(contributor.Email!);

        var page = await client.GetPageAsync("/MyData");

        page.ShouldContain($"Kept until {recorded.AddDays(90):yyyy-MM-dd} at the latest");
    }

    private async Task<RetentionRun> RunAsync()
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RetentionService>().RunAsync(CancellationToken.None);
    }
}
