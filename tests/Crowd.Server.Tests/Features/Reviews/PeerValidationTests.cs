using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Features.Reviews;
using Crowd.Server.Features.Audit;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Reviews;

public sealed class PeerValidationTests(RecordingApp app) : IClassFixture<RecordingApp>
{
    [Fact]
    public async Task AContributorCannotVoteOnTheirOwnClipAndIsNeverOfferedIt()
    {
        var job = await ReviewTestData.JobAsync(app, peerValidation: true);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id);
        var client = await app.SignedInClientAsync(speaker.Email!);

        var next = await client.GetAsync($"/api/validation/jobs/{job.Job.Id}/next");
        var vote = await client.PostAsJsonAsync($"/api/validation/clips/{clip}/vote", new { up = true });

        next.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        vote.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await vote.Content.ReadAsStringAsync()).ShouldContain("cannot validate your own clips");
        (await app.WithDbAsync(db => db.Set<ClipVote>().AnyAsync(v => v.ClipId == clip))).ShouldBeFalse();
    }

    [Fact]
    public async Task TwoUpVotesAcceptAClipAndAVoterCannotVoteTwice()
    {
        var job = await ReviewTestData.JobAsync(app, peerValidation: true);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id);
        var first = await ValidatorAsync(job);
        var second = await ValidatorAsync(job);

        (await first.PostAsJsonAsync($"/api/validation/clips/{clip}/vote", new { up = true })).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        var repeat = await first.PostAsJsonAsync($"/api/validation/clips/{clip}/vote", new { up = true });
        var afterOne = await StatusAsync(clip);
        (await second.PostAsJsonAsync($"/api/validation/clips/{clip}/vote", new { up = true })).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        repeat.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await repeat.Content.ReadAsStringAsync()).ShouldContain("already voted");
        afterOne.ShouldBe(ClipReview.Waiting);
        (await StatusAsync(clip)).ShouldBe(ClipReview.Accepted);
    }

    [Fact]
    public async Task TwoDownVotesRejectAClipWithAnAppealableRejection()
    {
        var job = await ReviewTestData.JobAsync(app, peerValidation: true);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id);

        foreach (var validator in new[] { await ValidatorAsync(job), await ValidatorAsync(job) })
        {
            (await validator.PostAsJsonAsync($"/api/validation/clips/{clip}/vote", new { up = false })).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        (await StatusAsync(clip)).ShouldBe(ClipReview.Rejected);
        var contributor = await app.SignedInClientAsync(speaker.Email!);
        var mine = await contributor.GetFromJsonAsync<JsonNode>("/api/reviews/mine");
        mine![0]!["reason"]!.GetValue<string>().ShouldBe("peer-validation");
        mine[0]!["byPeers"]!.GetValue<bool>().ShouldBeTrue();
        (await contributor.PostAsJsonAsync($"/api/reviews/clips/{clip}/appeal", new { note = "It is clear speech." })).StatusCode.ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task OnlyContributorsWithALiveConsentToAJobThatAsksForItMayValidate()
    {
        var withPeers = await ReviewTestData.JobAsync(app, peerValidation: true);
        var without = await ReviewTestData.JobAsync(app, peerValidation: false);
        var speaker = await RecordingTestData.ContributorAsync(app, without.Job);
        var clip = await ReviewTestData.ClipAsync(app, without, speaker.Id);
        var outsider = await app.SignedInClientAsync((await RecordingTestData.ContributorAsync(app)).Email!);
        var consented = await app.SignedInClientAsync((await RecordingTestData.ContributorAsync(app, without.Job)).Email!);

        (await outsider.GetAsync($"/api/validation/jobs/{withPeers.Job.Id}/next")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await consented.GetAsync($"/api/validation/jobs/{without.Job.Id}/next")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await consented.PostAsJsonAsync($"/api/validation/clips/{clip}/vote", new { up = true })).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await consented.GetAsync($"/api/reviews/clips/{clip}/audio")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ValidationTimeIsPaidLikeRecordingTimeUpToTheIdleCutOff()
    {
        var job = await ReviewTestData.JobAsync(app, peerValidation: true);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var first = await ReviewTestData.ClipAsync(app, job, speaker.Id, prompt: 0);
        var second = await ReviewTestData.ClipAsync(app, job, speaker.Id, prompt: 1);
        var validator = await RecordingTestData.ContributorAsync(app, job.Job);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CrowdDb>();
        var peers = new PeerValidation(db, new ConsentGate(db, clock), new AuditLog(db, clock, app.Services.GetRequiredService<AuditKey>()),
            scope.ServiceProvider.GetRequiredService<Crowd.Server.Features.Notifications.Notifications>(), clock,
            Options.Create(new CrowdOptions { Recording = new RecordingOptions { IdleCutoffSeconds = 120 } }));
        var theJob = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == job.Job.Id);

        (await peers.NextAsync(theJob, validator.Id, CancellationToken.None))!.ClipId.ShouldBe(first);
        clock.Advance(TimeSpan.FromSeconds(30));  // listening and deciding: paid
        (await peers.VoteAsync(first, validator.Id, up: true, CancellationToken.None)).Kind.ShouldBe(ReviewOutcomeKind.Ok);
        (await peers.NextAsync(theJob, validator.Id, CancellationToken.None))!.ClipId.ShouldBe(second);
        clock.Advance(TimeSpan.FromMinutes(10));  // away from the screen: only the cut-off counts
        (await peers.VoteAsync(second, validator.Id, up: true, CancellationToken.None)).Kind.ShouldBe(ReviewOutcomeKind.Ok);

        var session = await db.Set<ValidationSession>().AsNoTracking().SingleAsync(s => s.JobId == job.Job.Id && s.ContributorId == validator.Id);
        session.ActiveMs.ShouldBe(150_000);
        var accrual = await db.Set<EarningsAccrualRow>().AsNoTracking().SingleAsync(a => a.SessionId == session.Id);
        accrual.AccruedMinor.ShouldBe(PayCalculator.PayForActiveTime(150_000, ReviewTestData.RateMinor));
        (await LedgerQueries.BalanceAsync(db, AccountRef.Payable(validator.Id, "CNY"))).Minor.ShouldBe(1_500);
        (await peers.NextAsync(theJob, validator.Id, CancellationToken.None)).ShouldBeNull();
    }

    [Fact]
    public async Task ARequesterSwitchesPeerValidationOnAPublishedJobWithoutANewVersionOfTheTerms()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.PublishedJobAsync(app);

        var response = await requester.Client.PutAsJsonAsync($"/api/jobs/{job.Id}", new { peerValidation = true });
        var untouched = await requester.Client.PutAsJsonAsync($"/api/jobs/{job.Id}", new { title = job.Title });

        response.EnsureSuccessStatusCode();
        var saved = (await response.Content.ReadFromJsonAsync<JobResponse>())!;
        saved.PeerValidation.ShouldBeTrue();
        saved.Version.ShouldBe(job.Version);
        (await untouched.Content.ReadFromJsonAsync<JobResponse>())!.PeerValidation.ShouldBeTrue();
    }

    private async Task<HttpClient> ValidatorAsync(ReviewJob job) =>
        await app.SignedInClientAsync((await RecordingTestData.ContributorAsync(app, job.Job)).Email!);

    private Task<ClipReview> StatusAsync(Guid clip) => app.WithDbAsync(db => db.Clips.Where(c => c.Id == clip).Select(c => c.ReviewStatus).SingleAsync());
}
