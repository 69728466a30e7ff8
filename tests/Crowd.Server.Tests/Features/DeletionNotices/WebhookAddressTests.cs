using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Crowd.Server.Features.DeletionNotices;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Features.Withdrawal;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.DeletionNotices;

/// <summary>Webhooks reach the public internet only: not the platform's own machine, its networks or its cloud's metadata.</summary>
public sealed class WebhookAddressTests(PublicWebhooksApp app) : IClassFixture<PublicWebhooksApp>
{
    private static readonly IPAddress s_public = IPAddress.Parse("93.184.215.14");
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    [Theory]
    [InlineData("https://169.254.169.254/latest/meta-data/")]
    [InlineData("https://127.0.0.1/hook")]
    [InlineData("https://10.0.0.1/hook")]
    [InlineData("https://172.16.5.4/hook")]
    [InlineData("https://192.168.1.1/hook")]
    [InlineData("https://100.64.0.1/hook")]
    [InlineData("https://[::1]/hook")]
    [InlineData("https://[fd00::1]/hook")]
    [InlineData("https://[fe80::1]/hook")]
    [InlineData("https://localhost/hook")]
    [InlineData("https://LOCALHOST./hook")]
    [InlineData("https://2130706433/hook")]
    [InlineData("https://127.1/hook")]
    [InlineData("https://0x7f.0.0.1/hook")]
    [InlineData("https://0/hook")]
    [InlineData("https://[::ffff:127.0.0.1]/hook")]
    [InlineData("https://[::ffff:a9fe:a9fe]/hook")]
    [InlineData("https://224.0.0.1/hook")]
    [InlineData("https://metadata.google.internal/computeMetadata/v1/")]
    public async Task AWebhookAddressInsideThePlatformsNetworkIsRefusedNamingTheField(string url)
    {
        var buyer = await app.RequesterAsync();

        using var response = await buyer.Client.PutAsJsonAsync("/api/org/webhook", new { url });

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("errors").GetProperty("url")[0].GetString()!.ShouldContain("must be on the public internet");
        (await buyer.Client.GetAsync("/api/org/webhook")).StatusCode.ShouldBe(HttpStatusCode.NotFound, "nothing was saved");
    }

    [Fact]
    public async Task AWebhookNameThatResolvesInsideIsRefusedAndOneThatResolvesOutsideIsAccepted()
    {
        app.Network.Answer("intranet.example.com", [IPAddress.Parse("10.20.30.40")]);
        app.Network.Answer("mixed.example.com", [s_public, IPAddress.Parse("192.168.0.10")]);
        app.Network.Answer("hooks.example.com", [s_public]);
        app.Network.Answer("unknown.example.com");
        var buyer = await app.RequesterAsync();

        using var inside = await buyer.Client.PutAsJsonAsync("/api/org/webhook", new { url = "https://intranet.example.com/hook" });
        using var mixed = await buyer.Client.PutAsJsonAsync("/api/org/webhook", new { url = "https://mixed.example.com/hook" });
        using var unknown = await buyer.Client.PutAsJsonAsync("/api/org/webhook", new { url = "https://unknown.example.com/hook" });
        using var outside = await buyer.Client.PutAsJsonAsync("/api/org/webhook", new { url = "https://hooks.example.com/hook" });

        inside.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await inside.Content.ReadAsStringAsync()).ShouldContain("intranet.example.com is a private, loopback or otherwise internal address");
        mixed.StatusCode.ShouldBe(HttpStatusCode.BadRequest, "one inside address is enough to refuse");
        unknown.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await unknown.Content.ReadAsStringAsync()).ShouldContain("We could not find unknown.example.com");
        outside.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task TheRefusalIsInChineseForAChineseReader()
    {
        var buyer = await app.RequesterAsync();
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/org/webhook") { Content = JsonContent.Create(new { url = "https://10.0.0.1/hook" }) };
        request.Headers.AcceptLanguage.ParseAdd("zh-Hans");

        using var response = await buyer.Client.SendAsync(request);

        (await response.Content.ReadAsStringAsync()).ShouldContain("必须位于公共互联网上");
    }

    [Fact]
    public async Task TheSenderNeverConnectsInsideEvenToAWebhookSavedBeforeTheseRules()
    {
        await using var receiver = new WebhookReceiver("localhost");
        var (buyer, deliveryId) = await NoticeForStoredWebhookAsync(receiver.Url);

        var outcome = await SendAsync(deliveryId);

        outcome.ShouldBe(DeliveryOutcome.CouldNotConnect);
        receiver.Received.ShouldBeEmpty("localhost is the platform's own machine");
        var delivery = (await buyer.Client.GetFromJsonAsync<List<DeliveryView>>("/api/org/webhook/deliveries"))!.Single();
        delivery.LastOutcome.ShouldBe("could_not_connect");
    }

    [Fact]
    public async Task ANameThatAnswersOutsideWhenSavedAndInsideWhenSentIsNotReached()
    {
        await using var receiver = new WebhookReceiver("rebind.example.com");
        // DNS rebinding: a public address while the webhook is checked, the platform's own loopback a moment later.
        app.Network.Answer("rebind.example.com", [s_public], [IPAddress.Loopback]);
        var buyer = await app.RequesterAsync();
        (await buyer.Client.PutAsJsonAsync("/api/org/webhook", new { url = receiver.Url })).StatusCode.ShouldBe(HttpStatusCode.OK);
        var deliveryId = await WithdrawnAsync(buyer);

        var outcome = await SendAsync(deliveryId);

        outcome.ShouldBe(DeliveryOutcome.CouldNotConnect);
        receiver.Received.ShouldBeEmpty();
    }

    [Fact]
    public async Task ADeliveryRecordShowsOnlyTheOutcomeNeverTheTextOfAnError()
    {
        var (buyer, deliveryId) = await NoticeForStoredWebhookAsync("http://127.0.0.1:1/hook");

        await SendAsync(deliveryId);

        var json = await buyer.Client.GetStringAsync("/api/org/webhook/deliveries");
        json.ShouldNotContain("Connection refused");
        json.ShouldNotContain("127.0.0.1");
        var delivery = JsonSerializer.Deserialize<List<DeliveryView>>(json, s_json)!.Single();
        (delivery.LastOutcome, delivery.LastResult, delivery.LastStatus).ShouldBe(("could_not_connect", "Could not connect", (int?)null));
        using var chinese = new HttpRequestMessage(HttpMethod.Get, "/api/org/webhook/deliveries");
        chinese.Headers.AcceptLanguage.ParseAdd("zh-Hans");
        (await (await buyer.Client.SendAsync(chinese)).Content.ReadAsStringAsync()).ShouldContain("无法连接");
        (await buyer.Client.GetPageAsync("/Requester/Webhook")).ShouldNotContain("Connection refused");
    }

    /// <summary>A webhook stored as an older version would have let it be saved, and a notice for it waiting to be sent.</summary>
    private async Task<(Requester Buyer, Guid DeliveryId)> NoticeForStoredWebhookAsync(string url)
    {
        var buyer = await app.RequesterAsync();
        await app.WithDbAsync(async db =>
        {
            db.Add(new WebhookEndpoint
            {
                OrganisationId = buyer.OrganisationId,
                Url = url,
                ProtectedSecret = app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("Crowd.DeletionNotices.WebhookSecret")
                    .Protect("whsec_test"),
                CreatedAt = DateTimeOffset.UtcNow,
                CreatedByUserId = buyer.User.Id,
            });
            await db.SaveChangesAsync();
        });
        return (buyer, await WithdrawnAsync(buyer));
    }

    private async Task<Guid> WithdrawnAsync(Requester buyer)
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var contributor = await RecordingTestData.ContributorAsync(app, job);
        var clip = await WithdrawalTestData.StoredClipAsync(app, job, contributor.Id);
        await WithdrawalTestData.ExportedToAsync(app, buyer.OrganisationId, clip);
        var client = await app.SignedInClientAsync(contributor.Email!);
        (await client.PostAsync($"/api/me/clips/{clip.Id}/withdraw", null)).EnsureSuccessStatusCode();
        return (await buyer.Client.GetFromJsonAsync<List<DeliveryView>>("/api/org/webhook/deliveries"))!.Single().Id;
    }

    private async Task<DeliveryOutcome?> SendAsync(Guid deliveryId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<WebhookSender>().SendAsync(deliveryId, CancellationToken.None);
    }
}

/// <summary>The address rule itself, without HTTP: every range the platform keeps webhooks out of, in each spelling.</summary>
public sealed class WebhookAddressRuleTests
{
    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("10.255.0.1")]
    [InlineData("100.64.0.1")]
    [InlineData("100.127.255.254")]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.255.255")]
    [InlineData("169.254.169.254")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.0.1")]
    [InlineData("224.0.0.251")]
    [InlineData("239.255.255.250")]
    [InlineData("255.255.255.255")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("::127.0.0.1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("2002:7f00:1::")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("fe80::1")]
    [InlineData("ff02::1")]
    public void AnAddressInsideIsNotPublic(string address) => WebhookAddresses.IsPublic(IPAddress.Parse(address)).ShouldBeFalse();

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("93.184.215.14")]
    [InlineData("100.63.255.255")]
    [InlineData("100.128.0.1")]
    [InlineData("172.15.255.255")]
    [InlineData("172.32.0.1")]
    [InlineData("169.253.1.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("64:ff9b::808:808")]
    public void AnAddressOnThePublicInternetIsPublic(string address) => WebhookAddresses.IsPublic(IPAddress.Parse(address)).ShouldBeTrue();

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("LocalHost.", true)]
    [InlineData("api.localhost", true)]
    [InlineData("printer.local", true)]
    [InlineData("metadata.google.internal", true)]
    [InlineData("router.home.arpa", true)]
    [InlineData("hooks.example.com", false)]
    [InlineData("internal.example.com", false)]
    public void NamesThatOnlyLeadInsideAreKnownWithoutAskingDns(string host, bool inside) => WebhookAddresses.IsInternalName(host).ShouldBe(inside);
}
