using System.Net;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Crowd.Server.Tests.Features.Recording.Consent.ConsentTestData;

namespace Crowd.Server.Tests.Features.Recording.Consent;

/// <summary>When a job publishes new terms, recording stops for everyone until they consent to the new version.</summary>
public sealed class TermsChangeTests(HubApp app) : IClassFixture<HubApp>
{
    [Fact]
    public async Task NewTermsStopAnOpenSessionFromTakingTheNextPromptAndSendTheRecorderToTheConsentScreen()
    {
        var (client, job, _, _) = await RecordingHubTests.JoinedAsync(app);
        await using var _ = client;
        await client.InvokeAsync("Join", job.Id, false);
        await PublishNewTermsAsync(app, job.Id, 2);

        (await Should.ThrowAsync<HubErrorException>(() => client.InvokeAsync("NextPrompt"))).Message
            .ShouldEndWith("Give your consent to this job's terms before recording.");
        ((string)(await client.NextAsync("needsConsent"))[0]!).ShouldBe($"/Recording/{job.Id}/Consent");
        (await Should.ThrowAsync<HubErrorException>(() => client.InvokeAsync("Join", job.Id, false))).Message.ShouldContain("consent");
    }

    [Fact]
    public async Task ATakeRecordedUnderTheOldTermsCannotBeSubmittedOnceNewTermsArePublished()
    {
        var (client, job, _, _) = await RecordingHubTests.JoinedAsync(app);
        await using var _ = client;
        var speech = await TestAudio.SpeechSamplesAsync();
        var takeId = await RecordingHubTests.PromptAndTakeAsync(client, job.Id);
        ((bool)(await RecordingHubTests.RecordWholeTakeAsync(client, takeId, speech))!["passed"]!).ShouldBeTrue();
        await PublishNewTermsAsync(app, job.Id, 2);

        (await Should.ThrowAsync<HubErrorException>(() => client.InvokeAsync("Submit", takeId, null))).Message
            .ShouldEndWith("Give your consent to this job's terms before recording.");
        (await Should.ThrowAsync<HubErrorException>(() => client.InvokeAsync("StartTake"))).Message.ShouldContain("consent");
        (await app.WithDbAsync(db => db.Clips.CountAsync(c => c.JobId == job.Id))).ShouldBe(0);
    }

    [Fact]
    public async Task ConsentingToTheNewVersionLetsTheContributorRecordAgainInANewSessionUnderIt()
    {
        var (client, job, user, _) = await RecordingHubTests.JoinedAsync(app);
        await using var _ = client;
        await client.InvokeAsync("Join", job.Id, false);
        await PublishNewTermsAsync(app, job.Id, 2);
        (await Should.ThrowAsync<HubErrorException>(() => client.InvokeAsync("Join", job.Id, false))).Message.ShouldContain("consent");

        var http = await app.SignedInClientAsync(await app.WithDbAsync(db => db.Users.Where(u => u.Id == user).Select(u => u.Email!).SingleAsync()));
        var screen = await ScreenAsync(http, job.Id);
        ((int)screen["version"]!).ShouldBe(2);
        (await ConsentAsync(http, job.Id, screen, "Test contributor")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        await client.InvokeAsync("Join", job.Id, false);
        ((string)(await client.InvokeAsync("NextPrompt"))!["status"]!).ShouldBe("prompt");
        var sessions = await app.WithDbAsync(db => db.WorkerSessions.AsNoTracking().Where(s => s.JobId == job.Id && s.ContributorId == user).OrderBy(s => s.StartedAt).ToListAsync());
        sessions.Select(s => s.JobVersion).ShouldBe([1, 2]);
        sessions[0].ClosedAt.ShouldNotBeNull("the session under the old terms is closed, its time kept");
    }
}
