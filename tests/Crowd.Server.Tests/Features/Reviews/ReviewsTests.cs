using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Reviews;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.Reviews;

public sealed class ReviewsTests(RecordingApp app) : IClassFixture<RecordingApp>
{
    [Fact]
    public async Task RejectingWithoutAReasonOrTextIsRefusedWithBothFieldsNamedAndChangesNothing()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id);
        var requester = await app.SignedInClientAsync(job.Requester.Email!);

        var response = await requester.PostAsJsonAsync($"/api/reviews/clips/{clip}/reject", new { reason = "", note = " " });

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var reason = problem["errors"]!["reason"]![0]!.GetValue<string>();
        reason.ShouldBe("Choose the reason for the rejection: silence or no speech, wrong prompt read, unintelligible, not a live human voice, or a duplicate of another take.");
        reason.ShouldNotContain("wrong-prompt", customMessage: "reasons are named by their labels, not their codes");
        problem["errors"]!["note"]![0]!.GetValue<string>().ShouldContain("Explain the rejection");
        var wrongCode = await requester.PostAsJsonAsync($"/api/reviews/clips/{clip}/reject", new { reason = "too-quiet", note = "Too quiet." });
        wrongCode.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await StatusOfAsync(clip)).ShouldBe(ClipReview.Waiting);
        (await app.WithDbAsync(db => db.Set<ClipRejection>().AnyAsync(r => r.ClipId == clip))).ShouldBeFalse();
    }

    [Fact]
    public async Task ARequesterCannotReviewOrHearAClipOfAnotherOrganisation()
    {
        var job = await ReviewTestData.JobAsync(app);
        var other = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id);
        var stranger = await app.SignedInClientAsync(other.Requester.Email!);

        var reject = await stranger.PostAsJsonAsync($"/api/reviews/clips/{clip}/reject", new { reason = "silence", note = "Nothing to hear." });
        var accept = await stranger.PostAsync($"/api/reviews/clips/{clip}/accept", null);
        var audio = await stranger.GetAsync($"/api/reviews/clips/{clip}/audio");
        var queue = await stranger.GetAsync($"/api/reviews/jobs/{job.Job.Id}/queue");

        reject.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await reject.Content.ReadAsStringAsync()).ShouldContain("no clip with this id that you may review");
        accept.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        audio.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        queue.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await StatusOfAsync(clip)).ShouldBe(ClipReview.Waiting);
    }

    [Fact]
    public async Task TheRequesterHearsTheClipAndEveryReadAndDecisionIsAudited()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id);
        var requester = await app.SignedInClientAsync(job.Requester.Email!);

        var queue = await requester.GetFromJsonAsync<JsonNode>($"/api/reviews/jobs/{job.Job.Id}/queue");
        var audio = await requester.GetAsync($"/api/reviews/clips/{clip}/audio");
        var accept = await requester.PostAsync($"/api/reviews/clips/{clip}/accept", null);
        var again = await requester.PostAsJsonAsync($"/api/reviews/clips/{clip}/reject", new { reason = "silence", note = "Changed my mind." });

        queue!["waiting"]!.GetValue<int>().ShouldBe(1);
        queue["clips"]![0]!["metrics"]!["snrDb"]!.GetValue<double>().ShouldBe(31.2);
        audio.StatusCode.ShouldBe(HttpStatusCode.OK);
        audio.Content.Headers.ContentType!.MediaType.ShouldBe("audio/wav");
        (await audio.Content.ReadAsByteArrayAsync()).ShouldBe(ReviewTestData.Tone(6_000));
        accept.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        again.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await again.Content.ReadAsStringAsync()).ShouldContain("already been reviewed");
        (await StatusOfAsync(clip)).ShouldBe(ClipReview.Accepted);
        var audit = await AuditOfAsync(clip);
        audit.ShouldContain(("audio.read", "review", job.Requester.Id));
        audit.ShouldContain(("review.accepted", "", job.Requester.Id));
    }

    [Fact]
    public async Task AContributorSeesTheRejectionAppealsOnceAndASecondAppealIsRefused()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id);
        var requester = await app.SignedInClientAsync(job.Requester.Email!);
        var contributor = await app.SignedInClientAsync(speaker.Email!);
        (await requester.PostAsJsonAsync($"/api/reviews/clips/{clip}/reject", new { reason = "wrong-prompt", note = "Read sentence 2 instead of 1." }))
            .StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var mine = await contributor.GetFromJsonAsync<JsonNode>("/api/reviews/mine");
        var empty = await contributor.PostAsJsonAsync($"/api/reviews/clips/{clip}/appeal", new { note = "" });
        var first = await contributor.PostAsJsonAsync($"/api/reviews/clips/{clip}/appeal", new { note = "I read the sentence shown on screen." });
        var second = await contributor.PostAsJsonAsync($"/api/reviews/clips/{clip}/appeal", new { note = "Please look again." });

        mine![0]!["reason"]!.GetValue<string>().ShouldBe("wrong-prompt");
        mine[0]!["reasonLabel"]!.GetValue<string>().ShouldBe("Wrong prompt read");
        mine[0]!["note"]!.GetValue<string>().ShouldBe("Read sentence 2 instead of 1.");
        mine[0]!["canAppeal"]!.GetValue<bool>().ShouldBeTrue();
        empty.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        first.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        second.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await second.Content.ReadAsStringAsync()).ShouldContain("already been appealed");
        var stored = await app.WithDbAsync(db => db.Set<ClipRejection>().SingleAsync(r => r.ClipId == clip));
        stored.AppealNote.ShouldBe("I read the sentence shown on screen.");
        // The requester has no say in the appeal: the decision endpoint is an admin's.
        (await requester.PostAsJsonAsync($"/api/reviews/appeals/{clip}/decision", new { outcome = "uphold", note = "No." }))
            .StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task AnotherContributorCannotAppealSomeoneElsesRejection()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id);
        await RejectAsync(job, clip, "silence");
        var stranger = await app.SignedInClientAsync((await RecordingTestData.ContributorAsync(app)).Email!);

        var appeal = await stranger.PostAsJsonAsync($"/api/reviews/clips/{clip}/appeal", new { note = "Not mine but still." });

        appeal.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AnUpheldFraudRejectionTakesBackThePayForTheClipsTimeAndTheLedgerBalances()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        // 60 s of session time at 10 fen a second: 600 fen earned; the clip itself lasts 6 s.
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id, durationMs: 6_000, sessionActiveMs: 60_000);
        var payable = AccountRef.Payable(speaker.Id, "CNY");
        var escrowBefore = await BalanceAsync(AccountRef.Escrow(job.Job.Id, "CNY"));
        (await BalanceAsync(payable)).ShouldBe(600);
        await RejectAsync(job, clip, "not-live-voice");
        await AppealAsync(speaker, clip, "That is my own voice.");

        var admin = await AdminAsync();
        var decided = await admin.PostAsJsonAsync($"/api/reviews/appeals/{clip}/decision", new { outcome = "uphold", note = "Synthetic voice: identical spectrum to a TTS sample." });
        var twice = await admin.PostAsJsonAsync($"/api/reviews/appeals/{clip}/decision", new { outcome = "reverse", note = "Second thoughts." });

        decided.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        twice.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await twice.Content.ReadAsStringAsync()).ShouldContain("decision is final");
        (await BalanceAsync(payable)).ShouldBe(540);
        (await BalanceAsync(AccountRef.Escrow(job.Job.Id, "CNY"))).ShouldBe(escrowBefore + 60);
        await app.WithDbAsync(async db =>
        {
            (await LedgerQueries.TrialBalanceAsync(db)).Where(c => c.Value != 0).ShouldBeEmpty();
            (await LedgerQueries.NegativeContributorBalancesAsync(db)).ShouldBeEmpty();
        });
        (await StatusOfAsync(clip)).ShouldBe(ClipReview.Rejected);
        var mine = await (await app.SignedInClientAsync(speaker.Email!)).GetFromJsonAsync<JsonNode>("/api/reviews/mine");
        mine![0]!["outcome"]!.GetValue<string>().ShouldBe("upheld");
        mine[0]!["payReversedMinor"]!.GetValue<long>().ShouldBe(60);
        (await AuditOfAsync(clip)).Select(a => a.Action).ShouldContain("review.appeal_upheld");
    }

    [Fact]
    public async Task AnUpheldNonFraudRejectionLeavesThePayAndAReversalAcceptsTheClip()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var silent = await ReviewTestData.ClipAsync(app, job, speaker.Id, prompt: 0, sessionActiveMs: 60_000);
        var wrong = await ReviewTestData.ClipAsync(app, job, speaker.Id, prompt: 1, sessionActiveMs: 0);
        var payable = AccountRef.Payable(speaker.Id, "CNY");
        await RejectAsync(job, silent, "silence");
        await RejectAsync(job, wrong, "duplicate");
        await AppealAsync(speaker, silent, "There is speech after a pause.");
        await AppealAsync(speaker, wrong, "This is a different sentence.");
        var admin = await AdminAsync();

        (await admin.PostAsJsonAsync($"/api/reviews/appeals/{silent}/decision", new { outcome = "uphold", note = "Only breathing is audible." })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync($"/api/reviews/appeals/{wrong}/decision", new { outcome = "reverse", note = "Not a duplicate." })).EnsureSuccessStatusCode();

        (await BalanceAsync(payable)).ShouldBe(600);
        (await StatusOfAsync(silent)).ShouldBe(ClipReview.Rejected);
        (await StatusOfAsync(wrong)).ShouldBe(ClipReview.Accepted);
        (await admin.GetFromJsonAsync<JsonNode>("/api/reviews/appeals"))!.AsArray()
            .Select(a => a!["clipId"]!.GetValue<Guid>()).ShouldNotContain(silent);
    }

    [Fact]
    public async Task AReversalNeverTakesMoreThanThePayableLeftAfterAPayout()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id, durationMs: 6_000, sessionActiveMs: 60_000);
        var payable = AccountRef.Payable(speaker.Id, "CNY");
        // 580 of the 600 earned have been paid out already: only 20 is left to take back.
        await app.WithDbAsync(db => LedgerWriter.PostAsync(db, LedgerPosting.Transfer(LedgerTransactionKind.PayoutCreated, "test payout",
            $"test-payout:{speaker.Id}", payable, AccountRef.InFlight("CNY"), 580), DateTimeOffset.UtcNow, CancellationToken.None));
        await RejectAsync(job, clip, "duplicate");
        await AppealAsync(speaker, clip, "Not a duplicate.");

        (await (await AdminAsync()).PostAsJsonAsync($"/api/reviews/appeals/{clip}/decision", new { outcome = "uphold", note = "Same take as clip 1." }))
            .EnsureSuccessStatusCode();

        (await BalanceAsync(payable)).ShouldBe(0);
        (await app.WithDbAsync(db => db.Set<ClipRejection>().SingleAsync(r => r.ClipId == clip))).PayReversedMinor.ShouldBe(20);
    }

    [Fact]
    public async Task WithdrawnClipsNeverAppearInTheQueuesAndCannotBeHeard()
    {
        var job = await ReviewTestData.JobAsync(app, peerValidation: true);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var validator = await RecordingTestData.ContributorAsync(app, job.Job);
        var kept = await ReviewTestData.ClipAsync(app, job, speaker.Id, prompt: 0);
        var withdrawn = await ReviewTestData.ClipAsync(app, job, speaker.Id, prompt: 1, createdAt: DateTimeOffset.UtcNow.AddMinutes(-5));
        await app.WithDbAsync(db => db.Clips.Where(c => c.Id == withdrawn).ExecuteUpdateAsync(s => s.SetProperty(c => c.WithdrawnAt, DateTimeOffset.UtcNow)));
        var requester = await app.SignedInClientAsync(job.Requester.Email!);
        var peer = await app.SignedInClientAsync(validator.Email!);

        var queue = await requester.GetFromJsonAsync<JsonNode>($"/api/reviews/jobs/{job.Job.Id}/queue");
        var page = await requester.GetStringAsync($"/Reviews/{job.Job.Id}");
        var next = await peer.GetFromJsonAsync<JsonNode>($"/api/validation/jobs/{job.Job.Id}/next");
        var audio = await requester.GetAsync($"/api/reviews/clips/{withdrawn}/audio");
        var reject = await requester.PostAsJsonAsync($"/api/reviews/clips/{withdrawn}/reject", new { reason = "silence", note = "Nothing." });

        queue!["clips"]!.AsArray().Select(c => c!["clipId"]!.GetValue<Guid>()).ShouldBe([kept]);
        page.ShouldContain(kept.ToString());
        page.ShouldNotContain(withdrawn.ToString());
        next!["clipId"]!.GetValue<Guid>().ShouldBe(kept);
        audio.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        reject.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TheQueuePageShowsAWaveformAPlayerAndTheMetrics()
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        await ReviewTestData.ClipAsync(app, job, speaker.Id);
        var requester = await app.SignedInClientAsync(job.Requester.Email!);

        var page = await requester.GetStringAsync($"/Reviews/{job.Job.Id}");

        page.ShouldContain("<svg class=\"waveform\"");
        page.ShouldContain("/audio\"");
        page.ShouldContain("31.2 dB");
        page.ShouldContain("Sentence number 1");
        page.ShouldContain("Not a live human voice");
    }

    private async Task RejectAsync(ReviewJob job, Guid clip, string reason)
    {
        var requester = await app.SignedInClientAsync(job.Requester.Email!);
        (await requester.PostAsJsonAsync($"/api/reviews/clips/{clip}/reject", new { reason, note = "Heard it twice." })).StatusCode.ShouldBe(HttpStatusCode.NoContent);
    }

    private async Task AppealAsync(CrowdUser speaker, Guid clip, string note)
    {
        var contributor = await app.SignedInClientAsync(speaker.Email!);
        (await contributor.PostAsJsonAsync($"/api/reviews/clips/{clip}/appeal", new { note })).StatusCode.ShouldBe(HttpStatusCode.NoContent);
    }

    private async Task<HttpClient> AdminAsync() => await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);

    private Task<ClipReview> StatusOfAsync(Guid clip) => app.WithDbAsync(db => db.Clips.Where(c => c.Id == clip).Select(c => c.ReviewStatus).SingleAsync());

    private Task<long> BalanceAsync(AccountRef account) => app.WithDbAsync(async db => (await LedgerQueries.BalanceAsync(db, account)).Minor);

    private Task<List<(string Action, string Reason, Guid? Actor)>> AuditOfAsync(Guid clip) => app.WithDbAsync(async db =>
        (await db.AuditLog.Where(a => a.SubjectType == "clip" && a.SubjectId == clip.ToString()).OrderBy(a => a.Seq).ToListAsync())
        .Select(a => (a.Action, a.Reason, a.ActorId)).ToList());
}
