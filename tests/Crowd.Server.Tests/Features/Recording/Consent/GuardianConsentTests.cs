using System.Net;
using System.Text.Json.Nodes;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Crowd.Server.Tests.Features.Recording.Consent.ConsentTestData;

namespace Crowd.Server.Tests.Features.Recording.Consent;

public sealed class GuardianConsentTests(RecordingApp app) : IClassFixture<RecordingApp>
{
    [Fact]
    public async Task AChildUnder14WithoutAGuardiansConsentIsRefusedAndCannotRecord()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var (client, child) = await SignedInContributorAsync(app, BornYearsAgo(12));
        var screen = await ScreenAsync(client, job.Id);
        ((string)screen["ageGroup"]!).ShouldBe("child");

        var response = await ConsentAsync(client, job.Id, screen, "Test contributor");

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        ((string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detail"]!).ShouldStartWith("You are under 14, so you cannot consent to recording yourself.");
        (await app.WithDbAsync(db => db.Consents.CountAsync(c => c.ContributorId == child.Id))).ShouldBe(0);
        (await client.GetPageAsync($"/Recording/{job.Id}/Consent")).ShouldContain("data-testid=\"guardian-needed\"");
        await using var hub = await HubAsync(child);
        (await Should.ThrowAsync<HubErrorException>(() => hub.InvokeAsync("Join", job.Id, false))).Message.ShouldContain("consent");
    }

    [Fact]
    public async Task AMinorCannotConsentAloneEvenWithAConsentRowOfTheirOwn()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var (client, minor) = await SignedInContributorAsync(app, BornYearsAgo(16));

        var response = await ConsentAsync(client, job.Id, await ScreenAsync(client, job.Id), "Test contributor");

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        ((string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detail"]!).ShouldStartWith("You are under 18, so a parent or guardian must consent too.");
        // A consent without a guardian (given before a birth date was corrected, say) does not open the recorder.
        await RecordingTestData.ConsentAsync(app, job, minor.Id);
        await using var hub = await HubAsync(minor);
        (await Should.ThrowAsync<HubErrorException>(() => hub.InvokeAsync("Join", job.Id, false))).Message.ShouldContain("consent");
    }

    [Fact]
    public async Task TheGuardianFlowFromTheMailedLinkToConfirmationUnlocksRecording()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, adjust: j => j.Terms = j.Terms with { PurposeVoiceCloning = true });
        var (client, child) = await SignedInContributorAsync(app, BornYearsAgo(12));
        var guardianEmail = $"guardian-{Guid.NewGuid():N}@example.test";
        var screen = await ScreenAsync(client, job.Id);

        (await AskGuardianAsync(client, job.Id, screen, "Test contributor", guardianEmail, voiceCloning: false)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await app.WithDbAsync(db => db.Consents.CountAsync(c => c.ContributorId == child.Id))).ShouldBe(0, "nothing is live before the guardian confirms");
        (await client.GetPageAsync($"/Recording/{job.Id}/Consent")).ShouldContain(guardianEmail);

        var admin = await app.CreateUserAsync(Roles.Admin);
        var mailbox = await (await app.SignedInClientAsync(admin.Email!)).GetPageAsync("/Admin/Mailbox?To=" + Uri.EscapeDataString(guardianEmail));
        mailbox.ShouldContain("Test contributor asks for your consent to record their voice on Crowd");
        var mail = await app.WithDbAsync(db => db.MailOutbox.AsNoTracking().SingleAsync(m => m.ToAddress == guardianEmail));
        mail.SentAt.ShouldBeNull("no SMTP server is configured, so the mail is kept in the outbox");
        var link = "/Guardian/" + GuardianToken(mail.Body);

        var guardian = app.AnonymousClient();
        var page = await guardian.GetPageAsync(link);
        page.ShouldContain(System.Net.WebUtility.HtmlEncode((string)screen["text"]!.AsValue().GetValue<string>().Split('\n')[3]));
        page.ShouldContain("They did not allow voice cloning / speech synthesis.");
        using var confirmed = await guardian.PostFormAsync(link, PageForms.TokenIn(page), ("GuardianName", "Parent Of Test"));
        confirmed.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await confirmed.Content.ReadAsStringAsync()).ShouldContain("data-testid=\"guardian-confirmed\"");

        var (consent, request, actions) = await app.WithDbAsync(async db => (
            await db.Consents.AsNoTracking().SingleAsync(c => c.ContributorId == child.Id),
            await db.GuardianConsents.AsNoTracking().SingleAsync(g => g.ContributorId == child.Id),
            await db.AuditLog.AsNoTracking().Where(a => a.ActorId == child.Id || a.ActorKind == "guardian").Select(a => new { a.Action, a.SubjectId }).ToListAsync()));
        consent.GuardianConsentId.ShouldBe(request.Id);
        consent.TextSha256.ShouldBe((string)screen["textSha256"]!);
        consent.VoiceCloning.ShouldBeFalse();
        request.GuardianName.ShouldBe("Parent Of Test");
        request.TokenSha256.ShouldNotContain(GuardianToken(mail.Body), Case.Insensitive, "only the token's hash is stored");
        actions.ShouldContain(new { Action = "guardian.requested", SubjectId = request.Id.ToString() });
        actions.ShouldContain(new { Action = "guardian.confirmed", SubjectId = request.Id.ToString() });
        actions.ShouldContain(new { Action = "consent.given", SubjectId = consent.Id.ToString() });

        await using var hub = await HubAsync(child);
        var view = await hub.InvokeAsync("Join", job.Id, false);
        ((string)view!["status"]!).ShouldBe("joined");
    }

    [Fact]
    public async Task AReplayedOrExpiredGuardianLinkIsRefusedAndChangesNothing()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var (client, minor) = await SignedInContributorAsync(app, BornYearsAgo(16));
        var guardianEmail = $"guardian-{Guid.NewGuid():N}@example.test";
        var screen = await ScreenAsync(client, job.Id);
        (await AskGuardianAsync(client, job.Id, screen, "Test contributor", guardianEmail)).EnsureSuccessStatusCode();
        (await AskGuardianAsync(client, job.Id, screen, "Test contributor", guardianEmail)).EnsureSuccessStatusCode();
        var mails = await app.WithDbAsync(db => db.MailOutbox.AsNoTracking().Where(m => m.ToAddress == guardianEmail).OrderBy(m => m.CreatedAt).ToListAsync());
        var (used, expired) = ("/Guardian/" + GuardianToken(mails[0].Body), "/Guardian/" + GuardianToken(mails[1].Body));
        var guardian = app.AnonymousClient();
        var token = PageForms.TokenIn(await guardian.GetPageAsync(used));
        (await guardian.PostFormAsync(used, token, ("GuardianName", "Parent"))).StatusCode.ShouldBe(HttpStatusCode.OK);
        var before = await app.WithDbAsync(db => db.GuardianConsents.AsNoTracking().OrderBy(g => g.RequestedAt).Where(g => g.ContributorId == minor.Id).ToListAsync());

        using var replayed = await guardian.PostFormAsync(used, token, ("GuardianName", "Someone Else"));
        replayed.StatusCode.ShouldBe(HttpStatusCode.Gone);
        (await replayed.Content.ReadAsStringAsync()).ShouldContain("This link has already been used, and works only once. Nothing was changed.");
        (await guardian.GetAsync(used)).StatusCode.ShouldBe(HttpStatusCode.Gone);

        await app.WithDbAsync(db => db.Consents.Where(c => c.ContributorId == minor.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.WithdrawnAt, DateTimeOffset.UtcNow)));
        await app.WithDbAsync(db => db.GuardianConsents.Where(g => g.Id == before[1].Id).ExecuteUpdateAsync(s => s.SetProperty(g => g.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1))));
        using var late = await guardian.PostFormAsync(expired, token, ("GuardianName", "Parent"));
        late.StatusCode.ShouldBe(HttpStatusCode.Gone);
        (await late.Content.ReadAsStringAsync()).ShouldContain("This link has expired. Nothing was changed.");

        var after = await app.WithDbAsync(db => db.GuardianConsents.AsNoTracking().OrderBy(g => g.RequestedAt).Where(g => g.ContributorId == minor.Id).ToListAsync());
        after[0].GuardianName.ShouldBe("Parent");
        after[0].ConfirmedAt.ShouldBe(before[0].ConfirmedAt);
        after[1].ConfirmedAt.ShouldBeNull();
        (await app.WithDbAsync(db => db.Consents.CountAsync(c => c.ContributorId == minor.Id))).ShouldBe(1, "only the first confirmation made a consent");
        (await guardian.GetAsync("/Guardian/not-a-token")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AGuardiansEmailMustBeSomeoneElsesAndAnAdultNeedsNoGuardian()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var (client, minor) = await SignedInContributorAsync(app, BornYearsAgo(15));
        var (adultClient, _) = await SignedInContributorAsync(app);

        var own = await AskGuardianAsync(client, job.Id, await ScreenAsync(client, job.Id), "Test contributor", minor.Email!);
        var adult = await AskGuardianAsync(adultClient, job.Id, await ScreenAsync(adultClient, job.Id), "Test contributor", "parent@example.test");

        own.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await own.Content.ReadAsStringAsync()).ShouldContain("not your own");
        adult.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await app.WithDbAsync(db => db.MailOutbox.CountAsync(m => m.ToAddress == minor.Email || m.ToAddress == "parent@example.test"))).ShouldBe(0);
    }

    private async Task<SignalRJsonClient> HubAsync(CrowdUser user)
    {
        var connector = new HubConnector(app);
        return await connector.ConnectAsync(await connector.CookieAsync(user.Email!));
    }
}
