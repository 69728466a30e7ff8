using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Infrastructure;

namespace Crowd.Server.Tests.Features.ApiKeys;

public sealed partial class ApiKeysPageTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task ACreatedKeyIsShownOnceThenOnlyItsPrefixAndRevokingNeedsAConfirmation()
    {
        var (requester, _, _) = await app.RequesterAsync();

        var created = await requester.SubmitAsync("/Account/ApiKeys?handler=Create", ("Name", "nightly export"));
        created.StatusCode.ShouldBe(HttpStatusCode.OK);
        created.Headers.CacheControl!.NoStore.ShouldBeTrue();
        var html = await created.Content.ReadAsStringAsync();
        html.ShouldContain("Copy it now: it will not be shown again.");
        var key = ShownKey().Match(html).Groups[1].Value;
        key.ShouldStartWith("crowd_");
        (await MeAsync(key)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var list = await requester.GetStringAsync("/Account/ApiKeys");
        list.ShouldNotContain(key);
        list.ShouldNotContain("data-testid=\"api-key-secret\"");
        list.ShouldContain(key[..19]); // "crowd_" and the 12-character prefix
        list.ShouldContain("nightly export");
        var id = Regex.Match(list, "data-key-id=\"([^\"]+)\"").Groups[1].Value;

        var confirm = await requester.GetStringAsync($"/Account/ApiKeys?revoke={id}");
        confirm.ShouldContain("data-testid=\"revoke-confirm\"");
        confirm.ShouldContain("Programs using this key stop working at once.");
        (await MeAsync(key)).StatusCode.ShouldBe(HttpStatusCode.OK, "asking to revoke is not revoking");

        var revoked = await requester.PostFormAsync("/Account/ApiKeys?handler=Revoke", PageForms.TokenIn(confirm), ("id", id));
        revoked.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await requester.GetStringAsync(revoked.Headers.Location!.ToString())).ShouldContain("data-testid=\"api-key-revoked\"");
        (await MeAsync(key)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AKeyWithoutANameIsRefusedOnThePageInChinese()
    {
        var (requester, _, organisationId) = await app.RequesterAsync();
        requester.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN");

        var response = await requester.SubmitAsync("/Account/ApiKeys?handler=Create", ("Name", " "));

        var html = await response.Content.ReadAsStringAsync();
        html.ShouldContain("data-testid=\"error-summary\"");
        html.ShouldContain("请为密钥命名，例如将使用它的程序名称。");
        html.ShouldNotContain("data-testid=\"api-key-secret\"");
        (await app.WithDbAsync(db => Task.FromResult(db.ApiKeys.Count(k => k.OrganisationId == organisationId)))).ShouldBe(0);
    }

    [Fact]
    public async Task AnotherOrganisationsKeyCannotBeRevokedFromThePage()
    {
        var (owner, _, _) = await app.RequesterAsync();
        var (stranger, _, _) = await app.RequesterAsync();
        var created = (await (await owner.PostAsJsonAsync("/api/api-keys", new { name = "owned" })).Content
            .ReadFromJsonAsync<Crowd.Server.Features.ApiKeys.CreatedApiKeyResponse>())!;

        var response = await stranger.SubmitAsync("/Account/ApiKeys?handler=Revoke", ("id", created.Id.ToString()));

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await MeAsync(created.Key)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private async Task<HttpResponseMessage> MeAsync(string key)
    {
        var client = app.AnonymousClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return await client.GetAsync("/api/accounts/me");
    }

    [GeneratedRegex("data-testid=\"api-key-secret\">([^<]+)<")]
    private static partial Regex ShownKey();
}
