using System.Net;
using System.Net.Http.Json;
using Crowd.Server.Features.ApiKeys;
using Crowd.Server.Features.DeletionNotices;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Features.Withdrawal;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.TestHost;

namespace Crowd.Server.Tests.Security;

/// <summary>
/// What a page on another site can make a signed-in victim's browser send: a form post (no preflight) carrying the
/// victim's cookie, with the attacker's Origin or Referer, or with neither when the page hides them.
/// </summary>
public sealed class CrossSiteRequestTests(WithdrawalApp app) : IClassFixture<WithdrawalApp>
{
    private const string Evil = "https://evil.example";

    [Fact]
    public async Task AForeignSiteCannotWithdrawAClipWithTheContributorsCookieButCrowdsOwnPageCan()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var clip = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id);
        var victim = await app.SignedInClientAsync(contributor.Email!);
        var path = $"/api/me/clips/{clip.Id}/withdraw";

        using var fromEvil = await victim.SendAsync(FormPost(path, origin: Evil));
        using var fromEvilReferer = await victim.SendAsync(FormPost(path, referer: Evil + "/free-prize"));
        using var fromHiddenOrigin = await victim.SendAsync(FormPost(path, origin: "null"));
        using var withNoOriginAtAll = await victim.SendAsync(FormPost(path));

        foreach (var refused in new[] { fromEvil, fromEvilReferer, fromHiddenOrigin, withNoOriginAtAll })
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            (await refused.Content.ReadFromJsonAsync<ProblemDetails>())!.Title.ShouldBe("Request from another site");
        }
        var untouched = await WithdrawalTestData.ReloadAsync(app, clip.Id);
        untouched.WithdrawnAt.ShouldBeNull();
        (await WithdrawalTestData.ReadAudioAsync(app, untouched)).ShouldNotBeNull("the audio is still there");

        using var fromCrowd = await victim.SendAsync(FormPost(path, origin: OwnOrigin(victim)));
        fromCrowd.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await WithdrawalTestData.ReloadAsync(app, clip.Id)).WithdrawnAt.ShouldNotBeNull();
    }

    [Fact]
    public async Task AForeignSiteCannotCloseAJobOrAcknowledgeDeletionNoticesWithTheRequestersCookie()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();
        var notice = await OpenNoticeForAsync(requester.OrganisationId);

        using var close = await requester.Client.SendAsync(FormPost($"/api/jobs/{job.Id}/close", origin: Evil));
        using var acknowledge = await requester.Client.SendAsync(FormPost("/api/org/deletion-notices/acknowledge-all", origin: Evil));

        close.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        acknowledge.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await requester.Client.GetFromJsonAsync<JobResponse>($"/api/jobs/{job.Id}"))!.Status.ShouldBe("draft");
        var notices = (await requester.Client.GetFromJsonAsync<List<NoticeView>>("/api/org/deletion-notices?open=true"))!;
        notices.ShouldContain(n => n.Id == notice);
    }

    [Fact]
    public async Task EveryUnsafeApiMethodIsCheckedAndReadsAreNot()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();

        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Patch, HttpMethod.Delete, HttpMethod.Post })
        {
            using var request = new HttpRequestMessage(method, $"/api/jobs/{job.Id}") { Content = new StringContent("title=x", null, "text/plain") };
            request.Headers.Add("Origin", Evil);
            (await requester.Client.SendAsync(request)).StatusCode.ShouldBe(HttpStatusCode.Forbidden, method.Method);
        }
        using var read = new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{job.Id}");
        read.Headers.Add("Origin", Evil);
        (await requester.Client.SendAsync(read)).StatusCode.ShouldBe(HttpStatusCode.OK, "a read changes nothing, and CORS keeps its answer from the other site");
    }

    [Fact]
    public async Task ProgramsCallingTheApiWithJsonOrAnApiKeyAreNotAffected()
    {
        var requester = await app.RequesterAsync();
        var first = await requester.Client.CreateJobAsync();
        var second = await requester.Client.CreateJobAsync();
        var key = (await (await requester.Client.PostAsJsonAsync("/api/api-keys", new CreateApiKeyRequest("pipeline")))
            .Content.ReadFromJsonAsync<CreatedApiKeyResponse>())!.Key;

        // A program with the cookie and a JSON body names no origin: a browser cannot send this across sites without asking first.
        (await requester.Client.PostAsJsonAsync($"/api/jobs/{first.Id}/close", new { })).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var withKey = FormPost($"/api/jobs/{second.Id}/close", origin: Evil);
        withKey.Headers.Add(ApiKeyFormat.Header, key);
        (await app.AnonymousClient().SendAsync(withKey)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task TheRecordingHubRefusesAHandshakeFromAForeignOriginAndAcceptsItsOwn()
    {
        var contributor = await RecordingTestData.ContributorAsync(app);
        var client = await app.SignedInClientAsync(contributor.Email!);

        using var foreignNegotiate = new HttpRequestMessage(HttpMethod.Post, "/hubs/recording/negotiate?negotiateVersion=1");
        foreignNegotiate.Headers.Add("Origin", Evil);
        using var ownNegotiate = new HttpRequestMessage(HttpMethod.Post, "/hubs/recording/negotiate?negotiateVersion=1");
        ownNegotiate.Headers.Add("Origin", OwnOrigin(client));

        (await client.SendAsync(foreignNegotiate)).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await client.SendAsync(ownNegotiate)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var sockets = app.Server.CreateWebSocketClient();
        sockets.ConfigureRequest = r => r.Headers.Origin = Evil;
        var refused = await Should.ThrowAsync<InvalidOperationException>(() =>
            sockets.ConnectAsync(new Uri(app.Server.BaseAddress, "/hubs/recording").ToWs(), CancellationToken.None));
        refused.Message.ShouldContain("403");
    }

    private async Task<Guid> OpenNoticeForAsync(Guid organisation)
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var clip = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id);
        await WithdrawalTestData.ExportedToAsync(app, organisation, clip);
        var client = await app.SignedInClientAsync(contributor.Email!);
        (await client.PostAsync($"/api/me/clips/{clip.Id}/withdraw", null)).StatusCode.ShouldBe(HttpStatusCode.OK);
        return await app.WithDbAsync(db => Task.FromResult(db.Set<DeletionNotice>().Where(n => n.OrganisationId == organisation).Select(n => n.Id).Single()));
    }

    private static HttpRequestMessage FormPost(string path, string? origin = null, string? referer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent([new("confirm", "yes")]) };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        if (referer is not null)
        {
            request.Headers.Referrer = new Uri(referer);
        }
        return request;
    }

    private static string OwnOrigin(HttpClient client) => client.BaseAddress!.GetLeftPart(UriPartial.Authority);
}

internal static class WebSocketAddresses
{
    public static Uri ToWs(this Uri http) => new UriBuilder(http) { Scheme = http.Scheme == "https" ? "wss" : "ws" }.Uri;
}
