using System.Net;
using System.Net.Http.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Reviews;

/// <summary>An admin has no standing reason to hear a clip: they say why, and the audit log records the true reason.</summary>
public sealed class AdminAudioReadTests(RecordingApp app) : IClassFixture<RecordingApp>
{
    [Fact]
    public async Task AnAdminWhoGivesNoPurposeHearsNothingAndNothingIsLogged()
    {
        var (clip, _) = await ClipAsync(appealed: false);
        var admin = await AdminAsync();

        var response = await admin.GetAsync($"/api/reviews/clips/{clip}/audio");

        var problem = await response.ShouldBeValidationProblemAsync();
        problem.Errors["purpose"].ShouldHaveSingleItem().ShouldStartWith("State why you are listening: purpose=appeal, dispute or legal-request.");
        (await ReadsOfAsync(clip)).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("curiosity", "purpose")]
    [InlineData("review", "purpose")]
    [InlineData("appeal", "purpose")]
    [InlineData("legal-request", "reference")]
    [InlineData("dispute", "reference")]
    public async Task AnAdminReadForAPurposeThatIsNotOnTheListOrNotTrueIsRefused(string purpose, string field)
    {
        var (clip, _) = await ClipAsync(appealed: false);
        var admin = await AdminAsync();

        var response = await admin.GetAsync($"/api/reviews/clips/{clip}/audio?purpose={purpose}");

        (await response.ShouldBeValidationProblemAsync()).Errors.Keys.ShouldBe([field]);
        (await ReadsOfAsync(clip)).ShouldBeEmpty();
    }

    [Fact]
    public async Task AnAdminReadIsLoggedWithThePurposeTheyGaveAndItsReference()
    {
        var (clip, _) = await ClipAsync(appealed: false);
        var admin = await AdminAsync();

        var response = await admin.GetAsync($"/api/reviews/clips/{clip}/audio?purpose=legal-request&reference=Court%20order%202026-117");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("audio/wav");
        var read = (await ReadsOfAsync(clip)).ShouldHaveSingleItem();
        (read.ActorKind, read.Reason).ShouldBe(("admin", "legal request"));
        read.Details.ShouldBe("""{"purpose":"legal-request","reference":"Court order 2026-117"}""");
    }

    [Fact]
    public async Task AnAdminHearsAnAppealedClipForTheAppealFromTheAppealsPage()
    {
        var (clip, _) = await ClipAsync(appealed: true);
        var admin = await AdminAsync();

        var page = await admin.GetStringAsync("/Admin/Appeals");
        var url = $"/api/reviews/clips/{clip}/audio?purpose=appeal";
        var response = await admin.GetAsync(url);

        page.ShouldContain($"src=\"{url}\"");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ReadsOfAsync(clip)).ShouldHaveSingleItem().Reason.ShouldBe("appeal");
    }

    [Fact]
    public async Task OthersHearOnlyForTheirOwnPurposeWhateverTheyState()
    {
        var (clip, requester) = await ClipAsync(appealed: false);

        var ownPurpose = await requester.GetAsync($"/api/reviews/clips/{clip}/audio?purpose=review");
        var claimed = await requester.GetAsync($"/api/reviews/clips/{clip}/audio?purpose=legal-request&reference=X-1");

        ownPurpose.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await claimed.ShouldBeValidationProblemAsync()).Errors["purpose"].ShouldHaveSingleItem().ShouldBe("You may listen to this clip only for review.");
        (await ReadsOfAsync(clip)).Select(r => r.Reason).ShouldBe(["review"]);
    }

    /// <summary>A clip waiting for review or, when appealed, rejected by its requester and appealed by its speaker.</summary>
    private async Task<(Guid Clip, HttpClient Requester)> ClipAsync(bool appealed)
    {
        var job = await ReviewTestData.JobAsync(app);
        var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
        var clip = await ReviewTestData.ClipAsync(app, job, speaker.Id);
        var requester = await app.SignedInClientAsync(job.Requester.Email!);
        if (appealed)
        {
            (await requester.PostAsJsonAsync($"/api/reviews/clips/{clip}/reject", new { reason = "silence", note = "Nothing audible." })).EnsureSuccessStatusCode();
            var contributor = await app.SignedInClientAsync(speaker.Email!);
            (await contributor.PostAsJsonAsync($"/api/reviews/clips/{clip}/appeal", new { note = "I spoke clearly." })).EnsureSuccessStatusCode();
        }
        return (clip, requester);
    }

    private async Task<HttpClient> AdminAsync() => await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);

    private Task<List<(string ActorKind, string Reason, string Details)>> ReadsOfAsync(Guid clip) => app.WithDbAsync(async db =>
        (await db.AuditLog.Where(a => a.Action == "audio.read" && a.SubjectId == clip.ToString()).OrderBy(a => a.Seq).ToListAsync())
        .Select(a => (a.ActorKind, a.Reason, a.Details)).ToList());
}
