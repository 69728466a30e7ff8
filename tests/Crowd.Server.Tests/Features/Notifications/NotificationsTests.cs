using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Notifications;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.Notifications;

/// <summary>The one mechanism: a list with a bell, mail through the outbox, each kind switchable, live over the hub.</summary>
public sealed class NotificationsTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    private static readonly NotificationData s_paid = new() { Amount = new Money(12_345, "CNY") };

    [Fact]
    public async Task ANotificationAndItsMailExistOnlyWhenTheActionThatCausedItCommits()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);

        await InTransactionAsync(user.Id, NotificationKind.PayoutPaid, s_paid, commit: false);
        (await CountAsync(user.Id)).ShouldBe(0);
        (await MailsAsync(user.Email!)).ShouldBeEmpty();

        await InTransactionAsync(user.Id, NotificationKind.PayoutPaid, s_paid, commit: true);
        (await CountAsync(user.Id)).ShouldBe(1);
        var mail = (await MailsAsync(user.Email!)).ShouldHaveSingleItem();
        mail.Subject.ShouldBe("A payout of 123.45 CNY was paid");
        mail.Body.ShouldContain("The payout of 123.45 CNY reached your account.");
        mail.Body.ShouldContain(PublicUrl() + "/Earnings");
        mail.Body.ShouldContain("/Account/Notifications");
    }

    [Fact]
    public async Task AKindSwitchedOffByMailStillShowsInTheListAndOneSwitchedOffInTheAppStillMails()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        var client = await app.SignedInClientAsync(user.Email!);
        (await client.PutAsJsonAsync("/api/notifications/settings", new[]
        {
            new { kind = "payout_paid", inApp = true, email = false },
            new { kind = "payout_sent", inApp = false, email = true },
        })).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        await NotifyAsync(user.Id, NotificationKind.PayoutPaid, s_paid);
        await NotifyAsync(user.Id, NotificationKind.PayoutSent, s_paid);

        var list = await client.GetFromJsonAsync<JsonObject>("/api/notifications");
        list!["unread"]!.GetValue<int>().ShouldBe(1);
        list["items"]!.AsArray().Select(i => i!["kind"]!.GetValue<string>()).ShouldBe(["payout_paid"]);
        (await MailsAsync(user.Email!)).Select(m => m.Subject).ShouldBe(["A payout of 123.45 CNY is on its way"]);
        var settings = await client.GetFromJsonAsync<JsonArray>("/api/notifications/settings");
        settings!.Single(s => s!["kind"]!.GetValue<string>() == "payout_paid")!["email"]!.GetValue<bool>().ShouldBeFalse();
        settings!.Single(s => s!["kind"]!.GetValue<string>() == "clip_rejected")!["email"]!.GetValue<bool>().ShouldBeTrue();
        settings!.ShouldNotContain(s => s!["kind"]!.GetValue<string>() == "job_funded", "a contributor is offered the contributor kinds only");
    }

    [Fact]
    public async Task SettingsNameTheFieldOfAnUnknownKindOrAKindForAnotherRoleAndChangeNothing()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        var client = await app.SignedInClientAsync(user.Email!);

        var response = await client.PutAsJsonAsync("/api/notifications/settings", new[]
        {
            new { kind = "payout_paid", inApp = false, email = false },
            new { kind = "weather", inApp = false, email = false },
            new { kind = "job_funded", inApp = false, email = false },
        });

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        problem!["errors"]!["settings[1].kind"]![0]!.GetValue<string>().ShouldContain("There is no kind of notification called \"weather\"");
        problem["errors"]!["settings[2].kind"]![0]!.GetValue<string>().ShouldContain("not for your account");
        (await app.WithDbAsync(db => db.Set<NotificationPreference>().CountAsync(p => p.UserId == user.Id))).ShouldBe(0);
    }

    [Fact]
    public async Task ACheckThatRunsAgainTellsEachPersonOnce()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        await using var scope = app.Services.CreateAsyncScope();
        var notifications = scope.ServiceProvider.GetRequiredService<Crowd.Server.Features.Notifications.Notifications>();

        (await notifications.NotifyOnceAsync(user.Id, NotificationKind.PayoutPaid, s_paid, "paid:1", default)).ShouldBeTrue();
        (await notifications.NotifyOnceAsync(user.Id, NotificationKind.PayoutPaid, s_paid, "paid:1", default)).ShouldBeFalse();

        (await CountAsync(user.Id)).ShouldBe(1);
        (await MailsAsync(user.Email!)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task TheBellCountsUnreadAndOpeningANotificationMarksItReadAndLeadsToItsPage()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        var client = await app.SignedInClientAsync(user.Email!);
        await NotifyAsync(user.Id, NotificationKind.PayoutPaid, s_paid);
        await NotifyAsync(user.Id, NotificationKind.PayoutSent, s_paid);

        var page = await client.GetPageAsync("/Notifications");
        BellCount(page).ShouldBe("2");
        page.ShouldContain("A payout of 123.45 CNY was paid");
        var id = (await app.WithDbAsync(db => db.Set<Notification>().Where(n => n.UserId == user.Id && n.Kind == "payout_paid").SingleAsync())).Id;

        var open = await client.GetAsync($"/Notifications/Open/{id}");
        open.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        open.Headers.Location!.ToString().ShouldBe("/Earnings");
        BellCount(await client.GetPageAsync("/Notifications")).ShouldBe("1");

        (await client.PostAsync("/api/notifications/read", null)).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        BellCount(await client.GetPageAsync("/")).ShouldBe("0");
    }

    [Fact]
    public async Task SomeoneElsesNotificationCannotBeOpenedOrMarkedRead()
    {
        var owner = await app.CreateUserAsync(Roles.Contributor);
        var other = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Contributor)).Email!);
        await NotifyAsync(owner.Id, NotificationKind.PayoutPaid, s_paid);
        var id = (await app.WithDbAsync(db => db.Set<Notification>().SingleAsync(n => n.UserId == owner.Id))).Id;

        (await other.GetAsync($"/Notifications/Open/{id}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await other.PostAsync($"/api/notifications/{id}/read", null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await app.WithDbAsync(db => db.Set<Notification>().SingleAsync(n => n.Id == id))).ReadAt.ShouldBeNull();
    }

    [Fact]
    public async Task AnOpenPageHearsOfANewNotificationWhenItsTransactionCommits()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        var cookie = await app.CookieHeaderAsync(user.Email!);
        var ws = app.Server.CreateWebSocketClient();
        ws.ConfigureRequest = r => r.Headers.Cookie = cookie;
        await using var hub = await SignalRJsonClient.ConnectAsync(await ws.ConnectAsync(new Uri("ws://localhost" + NotificationsHub.Path), default));
        (await hub.NextAsync(NotificationsHub.FrameMethod))[0]!["unread"]!.GetValue<int>().ShouldBe(0);

        await InTransactionAsync(user.Id, NotificationKind.PayoutPaid, s_paid, commit: false);
        await NotifyAsync(user.Id, NotificationKind.PayoutSent, s_paid);

        var frame = (await hub.NextAsync(NotificationsHub.FrameMethod, TimeSpan.FromSeconds(20)))[0]!;
        frame["unread"]!.GetValue<int>().ShouldBe(1, "the rolled-back notification was never announced");
        frame["kind"]!.GetValue<string>().ShouldBe("payout_sent");
        frame["title"]!.GetValue<string>().ShouldBe("A payout of 123.45 CNY is on its way");
        frame["link"]!.GetValue<string>().ShouldStartWith("/Notifications/Open/");
    }

    [Fact]
    public void EveryKindHasACodeALabelAndAChineseLabel()
    {
        var translations = XDocument.Load(Path.Combine(ServerProcess.RepositoryRoot, "src", "Crowd.Server", "Features", "Notifications", "NotificationsText.zh-Hans.resx"))
            .Root!.Elements("data").Select(d => (string)d.Attribute("name")!).ToHashSet();

        foreach (var kind in NotificationKinds.All)
        {
            NotificationKinds.FromCode(kind.Code()).ShouldBe(kind);
            translations.ShouldContain(kind.Label(), $"the label of {kind} needs its Chinese translation");
        }
        NotificationKinds.All.Select(k => k.Code()).ShouldBeUnique();
    }

    private string PublicUrl() => app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Crowd.Server.Infrastructure.CrowdOptions>>()
        .Value.PublicUrl!.GetLeftPart(UriPartial.Authority);

    private static string BellCount(string html) =>
        System.Text.RegularExpressions.Regex.Match(html, "data-testid=\"bell\" data-unread=\"(\\d+)\"").Groups[1].Value;

    private async Task NotifyAsync(Guid userId, NotificationKind kind, NotificationData data) =>
        await InTransactionAsync(userId, kind, data, commit: true);

    private async Task InTransactionAsync(Guid userId, NotificationKind kind, NotificationData data, bool commit)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Crowd.Server.Infrastructure.Database.CrowdDb>();
        await using var tx = await db.Database.BeginTransactionAsync();
        await scope.ServiceProvider.GetRequiredService<Crowd.Server.Features.Notifications.Notifications>().NotifyAsync(userId, kind, data, default);
        if (commit)
        {
            await tx.CommitAsync();
        }
    }

    private Task<int> CountAsync(Guid userId) => app.WithDbAsync(db => db.Set<Notification>().CountAsync(n => n.UserId == userId));

    private Task<List<Crowd.Server.Infrastructure.Mail.OutboxMail>> MailsAsync(string to) =>
        app.WithDbAsync(db => db.MailOutbox.AsNoTracking().Where(m => m.ToAddress == to).OrderBy(m => m.CreatedAt).ToListAsync());
}
