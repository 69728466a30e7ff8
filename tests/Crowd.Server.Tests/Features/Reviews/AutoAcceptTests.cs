using Crowd.Server.Features.Audit;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Reviews;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Features.Recording;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Reviews;

public sealed class AutoAcceptTests(RecordingApp app) : IClassFixture<RecordingApp>
{
    [Fact]
    public async Task AClipNobodyReviewedIsAcceptedExactlyWhenTheWindowEndsAndNotASecondBefore()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var recordedAt = new DateTimeOffset(2030, 3, 1, 9, 0, 0, TimeSpan.Zero);
        var waiting = await ReviewTestData.ClipAsync(app, job, speaker.Id, prompt: 0, createdAt: recordedAt);
        var withdrawn = await ReviewTestData.ClipAsync(app, job, speaker.Id, prompt: 1, createdAt: recordedAt);
        await app.WithDbAsync(db => db.Clips.Where(c => c.Id == withdrawn).ExecuteUpdateAsync(s => s.SetProperty(c => c.WithdrawnAt, recordedAt)));
        var clock = new FakeTimeProvider(recordedAt + TimeSpan.FromDays(7) - TimeSpan.FromSeconds(1));

        await RunAsync(clock, days: 7);
        var before = await StatusAsync(waiting);
        clock.Advance(TimeSpan.FromSeconds(1));
        await RunAsync(clock, days: 7);

        before.ShouldBe(ClipReview.Waiting);
        var clip = await app.WithDbAsync(db => db.Clips.AsNoTracking().SingleAsync(c => c.Id == waiting));
        clip.ReviewStatus.ShouldBe(ClipReview.Accepted);
        clip.ReviewedByKind.ShouldBe("system");
        clip.ReviewedAt.ShouldBe(clock.GetUtcNow());
        (await StatusAsync(withdrawn)).ShouldBe(ClipReview.Waiting);
        (await app.WithDbAsync(db => db.AuditLog.AnyAsync(a => a.Action == "review.auto_accepted" && a.SubjectId == waiting.ToString()
            && a.ActorKind == "system" && a.Reason == "not reviewed within 7 days"))).ShouldBeTrue();
    }

    [Fact]
    public async Task AShorterConfiguredWindowAcceptsSooner()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var recordedAt = new DateTimeOffset(2031, 5, 1, 9, 0, 0, TimeSpan.Zero);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id, createdAt: recordedAt);

        await RunAsync(new FakeTimeProvider(recordedAt + TimeSpan.FromDays(2)), days: 2);

        (await StatusAsync(clip)).ShouldBe(ClipReview.Accepted);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    public void AWindowOutsideOneToFourteenDaysStopsTheServerFromStarting(int days)
    {
        using var misconfigured = app.WithWebHostBuilder(b => b.UseSetting("Crowd:Reviews:AutoAcceptDays", days.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        var error = Should.Throw<OptionsValidationException>(() => misconfigured.CreateClient());

        error.Message.ShouldContain("AutoAcceptDays must be between 1 and 14");
    }

    private async Task RunAsync(FakeTimeProvider clock, int days)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CrowdDb>();
        var options = Options.Create(new CrowdOptions { Reviews = new ReviewOptions { AutoAcceptDays = days } });
        await new AutoAccept(db, new AuditLog(db, clock, app.Services.GetRequiredService<AuditKey>()), clock, options).RunAsync(CancellationToken.None);
    }

    private Task<ClipReview> StatusAsync(Guid clip) => app.WithDbAsync(db => db.Clips.Where(c => c.Id == clip).Select(c => c.ReviewStatus).SingleAsync());
}
