using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Audit;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Withdrawal;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.Withdrawal;

public sealed class WithdrawalTests(WithdrawalApp app) : IClassFixture<WithdrawalApp>
{
    [Fact]
    public async Task WithdrawingAClipMakesItsAudioUnreadableAtOnceAndDeletesItsFile()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var clip = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id);
        var client = await app.SignedInClientAsync(contributor.Email!);
        (await WithdrawalTestData.ReadAudioAsync(app, clip)).ShouldNotBeNull("the clip is readable before");
        var backup = await File.ReadAllBytesAsync(WithdrawalTestData.BlobPath(app, clip));

        using var response = await client.PostAsync($"/api/me/clips/{clip.Id}/withdraw", null);
        var after = await WithdrawalTestData.ReloadAsync(app, clip.Id);
        var audio = await WithdrawalTestData.ReadAudioAsync(app, after);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        audio.ShouldBeNull();
        after.WrappedKey.ShouldBeNull("the clip's only key is gone");
        after.WithdrawnAt.ShouldNotBeNull();
        after.AudioDestroyedAt.ShouldNotBeNull();
        File.Exists(WithdrawalTestData.BlobPath(app, clip)).ShouldBeFalse("the encrypted file is deleted");
        Should.Throw<CryptographicException>(() => ClipCrypto.Decrypt(backup, new byte[60], clip.Id, RandomNumberGenerator.GetBytes(32)),
            "a copy of the blob taken before is ciphertext nobody holds a key for");
        (await ActionsAsync(clip.Id)).ShouldBe(["clip.withdrawn", "clip.key_destroyed", "clip.file_deleted"]);
    }

    [Fact]
    public async Task EachOfManyExportedClipsIsUnreadableAsSoonAsItsWithdrawalAnswers()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 21);
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var clips = new List<Clip>();
        for (var i = 0; i < 21; i++)
        {
            clips.Add(await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, prompt: i));
        }
        var recipient = await app.CreateOrganisationAsync();
        await WithdrawalTestData.ExportedToAsync(app, recipient, [.. clips]);
        var client = await app.SignedInClientAsync(contributor.Email!);

        foreach (var clip in clips)
        {
            using var response = await client.PostAsync($"/api/me/clips/{clip.Id}/withdraw", null);
            var audio = await WithdrawalTestData.ReadAudioAsync(app, await WithdrawalTestData.ReloadAsync(app, clip.Id));

            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            audio.ShouldBeNull();
        }
    }

    [Fact]
    public async Task WithdrawingSomeoneElsesClipIsRefusedWithAProblemAndChangesNothing()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var owner = await RecordingTestData.ContributorAsync(app, job);
        var clip = await WithdrawalTestData.StoredClipAsync(app, job, owner.Id);
        var stranger = await RecordingTestData.ContributorAsync(app, job);
        var client = await app.SignedInClientAsync(stranger.Email!);

        using var response = await client.PostAsync($"/api/me/clips/{clip.Id}/withdraw", null);
        using var jobResponse = await client.PostAsync($"/api/me/jobs/{Guid.NewGuid()}/withdraw", null);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var problem = (await response.Content.ReadFromJsonAsync<ProblemDetails>())!;
        problem.Title.ShouldBe("Clip not found");
        problem.Detail!.ShouldContain("nothing was withdrawn");
        jobResponse.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var unchanged = await WithdrawalTestData.ReloadAsync(app, clip.Id);
        unchanged.WithdrawnAt.ShouldBeNull();
        unchanged.WrappedKey.ShouldNotBeNull();
        (await WithdrawalTestData.ReadAudioAsync(app, unchanged)).ShouldNotBeNull();
        (await ActionsAsync(clip.Id)).ShouldBeEmpty();
    }

    [Fact]
    public async Task ARequesterCannotWithdrawAContributorsClip()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var owner = await RecordingTestData.ContributorAsync(app, job);
        var clip = await WithdrawalTestData.StoredClipAsync(app, job, owner.Id);
        var requester = await app.RequesterAsync();

        using var response = await requester.Client.PostAsync($"/api/me/clips/{clip.Id}/withdraw", null);

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await WithdrawalTestData.ReloadAsync(app, clip.Id)).WrappedKey.ShouldNotBeNull();
    }

    [Fact]
    public async Task WithdrawingFromAJobTakesBackTheConsentDestroysEveryClipAndKeepsThePay()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 3);
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var clips = new[]
        {
            await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, prompt: 0),
            await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, prompt: 1),
        };
        var sessionId = clips[0].SessionId;
        var earned = await app.WithDbAsync(db => EarningsAccrual.AccrueAsync(db, sessionId, contributor.Id, job.Id, 600_000, TimeProvider.System));
        var client = await app.SignedInClientAsync(contributor.Email!);

        using var response = await client.PostAsync($"/api/me/jobs/{job.Id}/withdraw", null);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await response.Content.ReadFromJsonAsync<WithdrawalResponse>();
        body!.ConsentsWithdrawn.ShouldBe(1);
        body.ClipsWithdrawn.ShouldBe(2);
        body.PayEarned.ShouldBe("kept");
        foreach (var clip in clips)
        {
            var after = await WithdrawalTestData.ReloadAsync(app, clip.Id);
            after.WrappedKey.ShouldBeNull();
            (await WithdrawalTestData.ReadAudioAsync(app, after)).ShouldBeNull();
        }
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var (outcome, _) = await scope.ServiceProvider.GetRequiredService<ConsentGate>().CheckAsync(job.Id, contributor.Id, CancellationToken.None);
            outcome.ShouldBe(GateOutcome.NeedsConsent, "recording needs a new consent");
        }
        var mine = await client.GetFromJsonAsync<JsonElement>("/api/me/data");
        var row = mine.EnumerateArray().Single(j => j.GetProperty("jobId").GetGuid() == job.Id);
        row.GetProperty("earned").GetProperty("minor").GetInt64().ShouldBe(5_00, "ten minutes at 30.00 CNY an hour, still there");
        earned.AccruedTotal.Minor.ShouldBe(5_00);
        row.GetProperty("consentLive").GetBoolean().ShouldBeFalse();
        var page = await client.GetPageAsync("/MyData");
        page.ShouldContain("5.00 CNY");
        page.ShouldContain("kept: withdrawing never takes back pay");
        page.ShouldContain("Withdrawn, audio destroyed");
    }

    [Fact]
    public async Task WithdrawingTwiceIsHarmlessAndSaysSo()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var clip = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id);
        var client = await app.SignedInClientAsync(contributor.Email!);

        (await client.PostAsync($"/api/me/clips/{clip.Id}/withdraw", null)).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var again = await client.PostAsync($"/api/me/clips/{clip.Id}/withdraw", null);
        using var job1 = await client.PostAsync($"/api/me/jobs/{job.Id}/withdraw", null);
        using var job2 = await client.PostAsync($"/api/me/jobs/{job.Id}/withdraw", null);

        (await again.Content.ReadFromJsonAsync<WithdrawalResponse>())!.Outcome.ShouldBe("already_withdrawn");
        (await job1.Content.ReadFromJsonAsync<WithdrawalResponse>())!.ConsentsWithdrawn.ShouldBe(1);
        (await job2.Content.ReadFromJsonAsync<WithdrawalResponse>())!.Outcome.ShouldBe("already_withdrawn");
        (await ActionsAsync(clip.Id)).Count(a => a == "clip.key_destroyed").ShouldBe(1);
    }

    [Fact]
    public async Task OnMyDataWithdrawingAClipAsksOnceAndThenSaysWhatHappenedInEitherLanguage()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 3);
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var unseen = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, prompt: 0);
        var exported = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, prompt: 1);
        var other = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, prompt: 2);
        await WithdrawalTestData.ExportedToAsync(app, await app.CreateOrganisationAsync(), exported);
        await WithdrawalTestData.ExportedToAsync(app, await app.CreateOrganisationAsync(), exported);
        var client = await app.SignedInClientAsync(contributor.Email!);
        var before = await client.GetPageAsync("/MyData");
        before.ShouldContain("Withdraw this clip");
        before.ShouldNotContain("This deletes the audio for good.");

        var asking = await client.GetPageAsync($"/MyData?confirm={unseen.Id}");

        asking.ShouldContain("This deletes the audio for good. Buyers who received it are told.");
        (await WithdrawalTestData.ReloadAsync(app, unseen.Id)).WrappedKey.ShouldNotBeNull("asking deletes nothing");
        using (var posted = await client.PostFormAsync("/MyData?handler=Clip", PageForms.TokenIn(asking), ("clipId", unseen.Id.ToString())))
        {
            posted.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }
        var afterUnseen = WebUtility.HtmlDecode(await client.GetPageAsync("/MyData"));
        afterUnseen.ShouldContain("The clip is withdrawn and its audio is destroyed for good. No buyer had received it yet. Your pay stays yours.");
        var token = PageForms.TokenIn(await client.GetPageAsync($"/MyData?confirm={exported.Id}"));
        (await client.PostFormAsync("/MyData?handler=Clip", token, ("clipId", exported.Id.ToString()))).StatusCode.ShouldBe(HttpStatusCode.Redirect);
        WebUtility.HtmlDecode(await client.GetPageAsync("/MyData"))
            .ShouldContain("The clip is withdrawn and its audio is destroyed for good. 2 buyers who had received it were told to delete it. Your pay stays yours.");
        (await WithdrawalTestData.ReloadAsync(app, unseen.Id)).WrappedKey.ShouldBeNull();
        (await WithdrawalTestData.ReloadAsync(app, other.Id)).WrappedKey.ShouldNotBeNull("only the clips asked for");

        var chinese = await client.GetPageAsync($"/MyData?confirm={other.Id}", "zh-Hans");
        chinese.ShouldContain("我的数据");
        chinese.ShouldContain("这将永久删除音频。已收到它的买方会得到通知。");
    }

    [Fact]
    public async Task MyDataShowsEachClipsReviewAndPlaysTheSpeakersOwnAudioAsTheirOwnAccess()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 2);
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var clip = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, prompt: 0);
        var client = await app.SignedInClientAsync(contributor.Email!);

        var page = await client.GetPageAsync("/MyData");

        page.ShouldContain("Waiting for review");
        page.ShouldContain($"src=\"/api/reviews/clips/{clip.Id}/audio\" data-testid=\"play\"");
        var audio = await client.GetAsync($"/api/reviews/clips/{clip.Id}/audio");
        audio.StatusCode.ShouldBe(HttpStatusCode.OK);
        audio.Content.Headers.ContentType!.MediaType.ShouldBe("audio/wav");
        var read = await app.WithDbAsync(db => db.AuditLog.AsNoTracking()
            .SingleAsync(e => e.SubjectType == "clip" && e.SubjectId == clip.Id.ToString() && e.Action == "audio.read"));
        (read.ActorId, read.Reason).ShouldBe((contributor.Id, "speaker listening to their own clip"));
    }

    [Fact]
    public async Task MyDataRefusesAClipThatIsNotYours()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var owner = await RecordingTestData.ContributorAsync(app, job);
        var clip = await WithdrawalTestData.StoredClipAsync(app, job, owner.Id);
        var stranger = await app.CreateUserAsync(Roles.Contributor);
        var client = await app.SignedInClientAsync(stranger.Email!);

        var token = await client.AntiforgeryTokenAsync("/MyData");
        using var posted = await client.PostFormAsync("/MyData?handler=Clip", token, ("clipId", clip.Id.ToString()));

        posted.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await WithdrawalTestData.ReloadAsync(app, clip.Id)).WrappedKey.ShouldNotBeNull();
    }

    private Task<List<string>> ActionsAsync(Guid clipId) =>
        app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(e => e.SubjectType == "clip" && e.SubjectId == clipId.ToString())
            .OrderBy(e => e.Seq).Select(e => e.Action).ToListAsync());
}
