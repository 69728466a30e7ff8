using System.Net;
using System.Text.Json.Nodes;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Crowd.Server.Tests.Features.Recording.Consent.ConsentTestData;

namespace Crowd.Server.Tests.Features.Recording.Consent;

public sealed class ConsentTests(RecordingApp app) : IClassFixture<RecordingApp>
{
    [Fact]
    public async Task ConsentKeepsTheExactTextShownOnceByItsHashWithTheTypedSignatureAndVersion()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var (first, firstUser) = await SignedInContributorAsync(app);
        var (second, secondUser) = await SignedInContributorAsync(app);
        var screen = await ScreenAsync(first, job.Id);

        (await ConsentAsync(first, job.Id, screen, "  test   CONTRIBUTOR ")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await ConsentAsync(second, job.Id, await ScreenAsync(second, job.Id), "Test contributor")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var hash = (string)screen["textSha256"]!;
        var (texts, consents, audited) = await app.WithDbAsync(async db => (
            await db.ConsentTexts.AsNoTracking().Where(t => t.Sha256 == hash).ToListAsync(),
            await db.Consents.AsNoTracking().Where(c => c.JobId == job.Id).OrderBy(c => c.GivenAt).ToListAsync(),
            await db.AuditLog.AsNoTracking().Where(a => a.Action == "consent.given").Select(a => a.SubjectId).ToListAsync()));
        texts.Count.ShouldBe(1, "each distinct text is stored once");
        texts[0].Body.ShouldBe((string)screen["text"]!);
        texts[0].Culture.ShouldBe("en");
        consents.Select(c => c.ContributorId).ShouldBe([firstUser.Id, secondUser.Id]);
        consents.ShouldAllBe(c => c.TextSha256 == hash && c.JobVersion == 1 && !c.VoiceCloning && c.WithdrawnAt == null);
        consents[0].Signature.ShouldBe("test CONTRIBUTOR");
        audited.ShouldContain(consents[0].Id.ToString());
        audited.ShouldContain(consents[1].Id.ToString());
    }

    [Fact]
    public async Task ASignatureThatIsNotTheAccountNameIsRefusedWithAFieldErrorAndNothingIsWritten()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var (client, user) = await SignedInContributorAsync(app);
        var screen = await ScreenAsync(client, job.Id);

        var response = await ConsentAsync(client, job.Id, screen, "Someone Else");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        ((string)problem["errors"]!["signature"]![0]!).ShouldBe("The name you typed is not the name on your account (Test contributor). Type it exactly as it is there.");
        await NothingWrittenAsync(user.Id, (string)screen["textSha256"]!);
    }

    [Fact]
    public async Task ConsentToAVersionThatIsNotTheCurrentOneIsRefusedNamingTheCurrentVersion()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var (client, user) = await SignedInContributorAsync(app);
        var screen = await ScreenAsync(client, job.Id);
        await PublishNewTermsAsync(app, job.Id, 2);

        var response = await ConsentAsync(client, job.Id, screen, "Test contributor");

        response.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        ((string)problem["detail"]!).ShouldBe("You consented to version 1 of this job's terms, but the current version is 2. Read version 2 and consent to it.");
        await NothingWrittenAsync(user.Id, (string)screen["textSha256"]!);

        var stale = await ConsentAsync(client, job.Id, screen, "Test contributor", version: 2);
        stale.StatusCode.ShouldBe(HttpStatusCode.Conflict, "the text read under version 1 is not the text of version 2");
        await NothingWrittenAsync(user.Id, (string)screen["textSha256"]!);
    }

    [Fact]
    public async Task VoiceCloningIsAnUntickedOptInThatIsOffUnlessTheContributorTicksIt()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, adjust: j => j.Terms = j.Terms with { PurposeVoiceCloning = true });
        var (declines, decliner) = await SignedInContributorAsync(app);
        var (optsIn, optedIn) = await SignedInContributorAsync(app);

        var page = await declines.GetPageAsync($"/Recording/{job.Id}/Consent");
        page.ShouldContain("name=\"VoiceCloning\"");
        page.ShouldNotContain("checked");
        var screen = await ScreenAsync(declines, job.Id);
        ((bool)screen["voiceCloningOffered"]!).ShouldBeTrue();
        (await ConsentAsync(declines, job.Id, screen, "Test contributor")).EnsureSuccessStatusCode();
        (await ConsentAsync(optsIn, job.Id, await ScreenAsync(optsIn, job.Id), "Test contributor", voiceCloning: true)).EnsureSuccessStatusCode();

        var choices = await app.WithDbAsync(db => db.Consents.Where(c => c.JobId == job.Id).ToDictionaryAsync(c => c.ContributorId, c => c.VoiceCloning));
        choices[decliner.Id].ShouldBeFalse();
        choices[optedIn.Id].ShouldBeTrue();
    }

    [Fact]
    public async Task PeerValidationIsNamedOnTheConsentScreenAsAUseOfTheAudioInBothLanguagesWhenTheJobUsesIt()
    {
        var withPeers = await RecordingTestData.PublishedJobAsync(app, adjust: j => j.PeerValidation = true);
        var withoutPeers = await RecordingTestData.PublishedJobAsync(app);
        var (client, _) = await SignedInContributorAsync(app);

        (await client.GetPageAsync($"/Recording/{withPeers.Id}/Consent")).ShouldContain(
            "Peer validation: other contributors of this job listen to your recordings to check that they match the prompt.");
        (await client.GetPageAsync($"/Recording/{withPeers.Id}/Consent", "zh-CN")).ShouldContain("同伴校验：此任务的其他参与者会收听您的录音");
        (await client.GetPageAsync($"/Recording/{withoutPeers.Id}/Consent")).ShouldNotContain("Peer validation");
        var screen = await ScreenAsync(client, withPeers.Id);
        (await ConsentAsync(client, withPeers.Id, screen, "Test contributor")).IsSuccessStatusCode.ShouldBeTrue();
        var stored = await app.WithDbAsync(db => db.ConsentTexts.Where(t => db.Consents.Any(c => c.JobId == withPeers.Id && c.TextSha256 == t.Sha256))
            .Select(t => t.Body).SingleAsync());
        stored.ShouldContain("Peer validation", Case.Sensitive, "the stored text a consent rests on names the use");
    }

    [Fact]
    public async Task OptingInToVoiceCloningOnAJobThatDoesNotAskForItIsRefused()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var (client, user) = await SignedInContributorAsync(app);
        var screen = await ScreenAsync(client, job.Id);
        (await client.GetPageAsync($"/Recording/{job.Id}/Consent")).ShouldNotContain("name=\"VoiceCloning\"");

        var response = await ConsentAsync(client, job.Id, screen, "Test contributor", voiceCloning: true);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).ShouldContain("voiceCloning");
        await NothingWrittenAsync(user.Id, (string)screen["textSha256"]!);
    }

    [Fact]
    public async Task TheConsentPageWorksWithoutJavaScriptAndKeepsTheTextInTheLanguageItWasShownIn()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var (client, user) = await SignedInContributorAsync(app);
        var path = $"/Recording/{job.Id}/Consent";
        var page = await client.GetPageAsync(path, "zh-Hans");
        page.ShouldContain("拒绝不会有任何代价");
        var token = PageForms.TokenIn(page);

        using var response = await client.PostFormAsync(path, token, ("Version", HiddenValue(page, "Version")),
            ("TextSha256", HiddenValue(page, "TextSha256")), ("Signature", "Test Contributor"));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldBe($"/Recording/{job.Id}");
        var text = await app.WithDbAsync(db => db.Consents.Where(c => c.ContributorId == user.Id)
            .Join(db.ConsentTexts, c => c.TextSha256, t => t.Sha256, (c, t) => t).SingleAsync());
        text.Culture.ShouldBe("zh-Hans");
        text.Body.ShouldContain("录音的购买方：Acme Speech AI");
    }

    [Fact]
    public async Task DecliningWritesNothingAndLeavesTheAccountAsItWas()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var (client, user) = await SignedInContributorAsync(app);
        var path = $"/Recording/{job.Id}/Consent";
        var page = await client.GetPageAsync(path);

        using var response = await client.PostFormAsync(path + "?handler=Decline", PageForms.TokenIn(page),
            ("Version", HiddenValue(page, "Version")), ("TextSha256", HiddenValue(page, "TextSha256")));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldBe("/");
        await NothingWrittenAsync(user.Id, HiddenValue(page, "TextSha256"));
        (await client.GetPageAsync("/")).ShouldNotBeNull("the account works as before");
    }

    [Fact]
    public async Task ConsentingAgainAfterAWithdrawalAddsARowAndKeepsTheWithdrawnOne()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var (client, user) = await SignedInContributorAsync(app);
        (await ConsentAsync(client, job.Id, await ScreenAsync(client, job.Id), "Test contributor")).EnsureSuccessStatusCode();
        (await ConsentAsync(client, job.Id, await ScreenAsync(client, job.Id), "Test contributor")).EnsureSuccessStatusCode();
        (await app.WithDbAsync(db => db.Consents.CountAsync(c => c.ContributorId == user.Id))).ShouldBe(1, "consenting twice keeps the live one");
        await app.WithDbAsync(db => db.Consents.Where(c => c.ContributorId == user.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.WithdrawnAt, DateTimeOffset.UtcNow)));

        (await ConsentAsync(client, job.Id, await ScreenAsync(client, job.Id), "Test contributor")).EnsureSuccessStatusCode();

        var history = await app.WithDbAsync(db => db.Consents.AsNoTracking().Where(c => c.ContributorId == user.Id).OrderBy(c => c.GivenAt).ToListAsync());
        history.Count.ShouldBe(2);
        history[0].WithdrawnAt.ShouldNotBeNull();
        history[1].WithdrawnAt.ShouldBeNull();
    }

    private Task NothingWrittenAsync(Guid userId, string textSha256) =>
        app.WithDbAsync(async db =>
        {
            (await db.Consents.CountAsync(c => c.ContributorId == userId)).ShouldBe(0);
            (await db.ConsentTexts.CountAsync(t => t.Sha256 == textSha256)).ShouldBe(0);
            (await db.AuditLog.CountAsync(a => a.ActorId == userId)).ShouldBe(0);
        });
}
