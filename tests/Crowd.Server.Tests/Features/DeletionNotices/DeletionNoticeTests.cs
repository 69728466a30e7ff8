using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.DeletionNotices;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Features.Withdrawal;
using Crowd.Server.Tests.Infrastructure;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.DeletionNotices;

public sealed class DeletionNoticeTests(DeletionNoticesApp app) : IClassFixture<DeletionNoticesApp>
{
    [Fact]
    public async Task EveryOrganisationThatExportedAWithdrawnClipGetsOneNoticeListingItsClips()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 3);
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var a = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, prompt: 0);
        var b = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, prompt: 1);
        var notExported = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id, prompt: 2);
        var buyer = await app.RequesterAsync();
        var reseller = await app.RequesterAsync();
        var bystander = await app.RequesterAsync();
        await WithdrawalTestData.ExportedToAsync(app, buyer.OrganisationId, a, b);
        await WithdrawalTestData.ExportedToAsync(app, buyer.OrganisationId, a);
        await WithdrawalTestData.ExportedToAsync(app, reseller.OrganisationId, b);
        var client = await app.SignedInClientAsync(contributor.Email!);

        using var response = await client.PostAsync($"/api/me/jobs/{job.Id}/withdraw", null);

        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deletionNoticesSent").GetInt32().ShouldBe(2);
        var buyerNotices = (await buyer.Client.GetFromJsonAsync<List<NoticeView>>("/api/org/deletion-notices?open=true"))!;
        var notice = buyerNotices.ShouldHaveSingleItem();
        notice.Reason.ShouldBe("withdrawal");
        notice.ClipCount.ShouldBe(2);
        notice.Clips.Select(c => c.ClipId).Distinct().ShouldBe([a.Id, b.Id], ignoreOrder: true);
        notice.Clips.Count.ShouldBe(3, "clip a went out in two exports; both are named");
        (await reseller.Client.GetFromJsonAsync<List<NoticeView>>("/api/org/deletion-notices"))!.ShouldHaveSingleItem().Clips
            .ShouldHaveSingleItem().ClipId.ShouldBe(b.Id);
        (await bystander.Client.GetFromJsonAsync<List<NoticeView>>("/api/org/deletion-notices"))!.ShouldBeEmpty();
        notExported.Id.ShouldNotBe(a.Id);
    }

    [Fact]
    public async Task ANoticeStaysVisibleToAdminsUntilTheRequesterAcknowledgesIt()
    {
        var (buyer, noticeId) = await WithdrawnAndNoticedAsync();
        var admin = await app.CreateUserAsync(Roles.Admin);
        var adminClient = await app.SignedInClientAsync(admin.Email!);

        var before = await adminClient.GetPageAsync("/Admin/Notices");
        before.ShouldContain($"notice-{noticeId}");
        var requesterPage = await buyer.Client.GetPageAsync("/Requester/Notices");
        requesterPage.ShouldContain("Deleted: acknowledge");
        using var posted = await buyer.Client.PostFormAsync("/Requester/Notices?handler=Acknowledge", PageForms.TokenIn(requesterPage),
            ("noticeId", noticeId.ToString()));

        posted.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await adminClient.GetPageAsync("/Admin/Notices")).ShouldNotContain($"notice-{noticeId}");
        (await buyer.Client.GetFromJsonAsync<List<NoticeView>>("/api/org/deletion-notices?open=true"))!.ShouldBeEmpty();
        (await app.WithDbAsync(db => db.AuditLog.AnyAsync(e => e.Action == "deletion_notice.acknowledged" && e.SubjectId == noticeId.ToString())))
            .ShouldBeTrue();
    }

    [Fact]
    public async Task AnotherOrganisationCannotAcknowledgeANotice()
    {
        var (_, noticeId) = await WithdrawnAndNoticedAsync();
        var other = await app.RequesterAsync();

        using var response = await other.Client.PostAsync($"/api/org/deletion-notices/{noticeId}/acknowledge", null);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await app.WithDbAsync(db => db.Set<DeletionNotice>().SingleAsync(n => n.Id == noticeId))).AcknowledgedAt.ShouldBeNull();
    }

    [Fact]
    public async Task AWebhookGetsTheNoticeSignedWithTheSecretShownOnce()
    {
        await using var receiver = new WebhookReceiver();
        var job = await RecordingTestData.PublishedJobAsync(app);
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var clip = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id);
        var buyer = await app.RequesterAsync();
        await WithdrawalTestData.ExportedToAsync(app, buyer.OrganisationId, clip);
        using var set = await buyer.Client.PutAsJsonAsync("/api/org/webhook", new { url = receiver.Url });
        set.StatusCode.ShouldBe(HttpStatusCode.OK);
        var secret = (await set.Content.ReadFromJsonAsync<WebhookCreated>())!.Secret;
        (await buyer.Client.GetStringAsync("/api/org/webhook")).ShouldNotContain(secret, Case.Sensitive, "the secret is shown once");
        var client = await app.SignedInClientAsync(contributor.Email!);

        (await client.PostAsync($"/api/me/clips/{clip.Id}/withdraw", null)).EnsureSuccessStatusCode();
        var deliveryId = (await buyer.Client.GetFromJsonAsync<List<DeliveryView>>("/api/org/webhook/deliveries"))!.Single().Id;
        var sent = await SendAsync(deliveryId);

        sent.ShouldBe(DeliveryOutcome.Delivered);
        var received = receiver.Received.ShouldHaveSingleItem();
        // Checked from the definition: t=UNIX,v1=hex(HMAC-SHA256(secret, UNIX + "." + body)).
        var parts = received.Signature.Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret),
            (byte[])[.. Encoding.UTF8.GetBytes(parts["t"] + "."), .. received.Body]));
        parts["v1"].ShouldBe(expected);
        long.Parse(parts["t"], System.Globalization.CultureInfo.InvariantCulture).ShouldBe(app.Time.GetUtcNow().ToUnixTimeSeconds());
        var body = JsonDocument.Parse(received.Body).RootElement;
        body.GetProperty("type").GetString().ShouldBe("deletion_notice.created");
        body.GetProperty("data").GetProperty("clips")[0].GetProperty("clipId").GetGuid().ShouldBe(clip.Id);
        body.GetProperty("id").GetString().ShouldBe(received.EventId);
        var delivery = (await buyer.Client.GetFromJsonAsync<List<DeliveryView>>("/api/org/webhook/deliveries"))!.ShouldHaveSingleItem();
        delivery.State.ShouldBe("delivered");
        delivery.Attempts.ShouldBe(1);
        delivery.LastOutcome.ShouldBe("delivered");
    }

    [Fact]
    public async Task AWithdrawalEnqueuesTheWebhookDeliveryJobOnceItHasCommitted()
    {
        await using var receiver = new WebhookReceiver();
        var (buyer, _) = await WithdrawnAndNoticedAsync(receiver.Url);

        var delivery = (await DeliveriesAsync(buyer)).Single();

        EnqueuedAttempts(delivery.Id).ShouldBe(1);
        receiver.Received.ShouldBeEmpty("no job server runs in this test host: the job waits in the queue");
    }

    [Fact]
    public async Task AFailingWebhookIsRetriedWithBackoffThenMarkedFailed()
    {
        await using var receiver = new WebhookReceiver();
        receiver.AnswerNext(500, 503, 500);
        var (buyer, _) = await WithdrawnAndNoticedAsync(receiver.Url);
        var id = (await DeliveriesAsync(buyer)).Single().Id;

        (await SendAsync(id)).ShouldBe(DeliveryOutcome.Refused);
        var afterOne = (await DeliveriesAsync(buyer)).Single();
        afterOne.State.ShouldBe("pending");
        afterOne.LastStatus.ShouldBe(500);
        afterOne.LastResult.ShouldBe("Refused by your server: HTTP 500");
        (afterOne.NextAttemptAt - afterOne.LastAttemptAt!.Value).ShouldBe(TimeSpan.FromSeconds(0.2));
        ScheduledAttempts(id).ShouldHaveSingleItem("the next attempt is a Hangfire job scheduled for the backoff")
            .ShouldBe(afterOne.NextAttemptAt.UtcDateTime, TimeSpan.FromMilliseconds(1));
        (await SendAsync(id)).ShouldBeNull("not due yet: the backoff holds it");
        app.Time.Advance(TimeSpan.FromSeconds(0.2));
        (await SendAsync(id)).ShouldBe(DeliveryOutcome.Refused);
        var afterTwo = (await DeliveriesAsync(buyer)).Single();
        (afterTwo.NextAttemptAt - afterTwo.LastAttemptAt!.Value).ShouldBe(TimeSpan.FromSeconds(0.4));
        app.Time.Advance(TimeSpan.FromSeconds(0.4));
        await SendAsync(id);

        var last = (await DeliveriesAsync(buyer)).Single();
        last.State.ShouldBe("failed");
        last.Attempts.ShouldBe(3);
        receiver.Received.Count.ShouldBe(3);
        receiver.Received.Select(r => r.EventId).Distinct().Count().ShouldBe(1, "every attempt carries the same event id");
        ScheduledAttempts(id).Count.ShouldBe(2, "no attempt is scheduled after the last one");
    }

    [Fact]
    public async Task AWebhookThatRecoversGetsTheNoticeOnTheRetry()
    {
        await using var receiver = new WebhookReceiver();
        receiver.AnswerNext(502);
        var (buyer, _) = await WithdrawnAndNoticedAsync(receiver.Url);
        var id = (await DeliveriesAsync(buyer)).Single().Id;

        await SendAsync(id);
        app.Time.Advance(TimeSpan.FromSeconds(0.2));
        await SendAsync(id);

        var delivery = (await DeliveriesAsync(buyer)).Single();
        delivery.State.ShouldBe("delivered");
        delivery.Attempts.ShouldBe(2);
    }

    [Fact]
    public async Task TwoJobsForOneDueDeliverySendItOnce()
    {
        await using var receiver = new WebhookReceiver();
        var (buyer, _) = await WithdrawnAndNoticedAsync(receiver.Url);
        var id = (await DeliveriesAsync(buyer)).Single().Id;

        var outcomes = await Task.WhenAll(SendAsync(id), SendAsync(id));

        outcomes.Count(o => o == DeliveryOutcome.Delivered).ShouldBe(1);
        receiver.Received.Count.ShouldBe(1);
    }

    [Fact]
    public async Task TheSweepEnqueuesADeliveryWhoseJobWasLost()
    {
        await using var receiver = new WebhookReceiver();
        var (buyer, _) = await WithdrawnAndNoticedAsync(receiver.Url);
        var id = (await DeliveriesAsync(buyer)).Single().Id;
        await using var scope = app.Services.CreateAsyncScope();
        var sender = scope.ServiceProvider.GetRequiredService<WebhookSender>();
        var queued = EnqueuedAttempts(id);

        await sender.SweepAsync(default);
        EnqueuedAttempts(id).ShouldBe(queued, "a delivery only just due still has its own job");
        app.Time.Advance(TimeSpan.FromMinutes(3));
        await sender.SweepAsync(default);

        EnqueuedAttempts(id).ShouldBe(queued + 1);
    }

    [Fact]
    public async Task AWebhookAddressMustBeAFullUrl()
    {
        var buyer = await app.RequesterAsync();

        using var response = await buyer.Client.PutAsJsonAsync("/api/org/webhook", new { url = "not a url" });

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).ShouldContain("Enter the full address of your webhook");
        WebhookRules.Validate("http://example.test/hook", allowInsecure: false).ShouldHaveSingleItem().Message.ShouldContain("https://");
        WebhookRules.Validate("https://example.test/hook", allowInsecure: false).ShouldBeEmpty();
        WebhookRules.Validate("https://user:pw@example.test/hook", allowInsecure: false).ShouldNotBeEmpty();
    }

    [Fact]
    public async Task TheWebhookPageShowsTheSecretOnceInEitherLanguage()
    {
        var buyer = await app.RequesterAsync();

        var (status, html) = await buyer.Client.SubmitToAsync("/Requester/Webhook", "/Requester/Webhook",
            new Dictionary<string, string> { ["Address"] = "http://127.0.0.1:9/hook" });

        status.ShouldBe(HttpStatusCode.OK);
        html.ShouldContain("whsec_");
        (await buyer.Client.GetPageAsync("/Requester/Webhook")).ShouldNotContain("whsec_");
        (await buyer.Client.GetPageAsync("/Requester/Notices", "zh-Hans")).ShouldContain("删除通知");
    }

    private async Task<(Requester Buyer, Guid NoticeId)> WithdrawnAndNoticedAsync(string? webhook = null)
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var clip = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id);
        var buyer = await app.RequesterAsync();
        await WithdrawalTestData.ExportedToAsync(app, buyer.OrganisationId, clip);
        if (webhook is not null)
        {
            (await buyer.Client.PutAsJsonAsync("/api/org/webhook", new { url = webhook })).EnsureSuccessStatusCode();
        }
        var client = await app.SignedInClientAsync(contributor.Email!);
        (await client.PostAsync($"/api/me/clips/{clip.Id}/withdraw", null)).EnsureSuccessStatusCode();
        var notices = (await buyer.Client.GetFromJsonAsync<List<NoticeView>>("/api/org/deletion-notices"))!;
        return (buyer, notices.Single().Id);
    }

    /// <summary>Runs one attempt of the delivery, as its Hangfire job would.</summary>
    private async Task<DeliveryOutcome?> SendAsync(Guid deliveryId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<WebhookSender>().SendAsync(deliveryId, CancellationToken.None);
    }

    private static async Task<List<DeliveryView>> DeliveriesAsync(Requester buyer) =>
        (await buyer.Client.GetFromJsonAsync<List<DeliveryView>>("/api/org/webhook/deliveries"))!;

    private List<DateTime> ScheduledAttempts(Guid deliveryId) =>
        app.Services.GetRequiredService<JobStorage>().GetMonitoringApi().ScheduledJobs(0, 10_000)
            .Where(j => j.Value.Job.Method.Name == nameof(WebhookSender.SendAsync) && j.Value.Job.Args[0] is Guid id && id == deliveryId)
            .Select(j => j.Value.EnqueueAt).Order().ToList();

    private int EnqueuedAttempts(Guid deliveryId) =>
        app.Services.GetRequiredService<JobStorage>().GetMonitoringApi().EnqueuedJobs("default", 0, 10_000)
            .Count(j => j.Value.Job.Method.Name == nameof(WebhookSender.SendAsync) && j.Value.Job.Args[0] is Guid id && id == deliveryId);
}
