using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.ApiKeys;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crowd.Server.Tests.Features.ApiKeys;

public sealed class ApiKeysApiTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task AKeyWorksInEitherHeaderForItsOrganisationUntilItIsRevoked()
    {
        var (requester, user, organisationId) = await app.RequesterAsync();

        var created = await CreateKeyAsync(requester, "data pipeline");
        created.Key.ShouldStartWith(created.Prefix);
        created.Name.ShouldBe("data pipeline");

        var byHeader = await MeWithKeyAsync(created.Key, bearer: false);
        byHeader.StatusCode.ShouldBe(HttpStatusCode.OK);
        var me = (await byHeader.Content.ReadFromJsonAsync<AccountResponse>())!;
        me.AuthenticatedBy.ShouldBe("apikey");
        me.OrganisationId.ShouldBe(organisationId);
        me.Id.ShouldBe(user.Id);

        var byBearer = await MeWithKeyAsync(created.Key, bearer: true);
        byBearer.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await byBearer.Content.ReadFromJsonAsync<AccountResponse>())!.AuthenticatedBy.ShouldBe("apikey");

        (await requester.DeleteAsync($"/api/api-keys/{created.Id}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        (await MeWithKeyAsync(created.Key, bearer: false)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await MeWithKeyAsync(created.Key, bearer: true)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task OnlyTheHashOfAKeyIsStoredAndNoRowAnywhereContainsTheKey()
    {
        var (requester, _, _) = await app.RequesterAsync();
        var created = await CreateKeyAsync(requester, "hash check");
        (await MeWithKeyAsync(created.Key, bearer: false)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var stored = await app.WithDbAsync(db => db.ApiKeys.AsNoTracking().SingleAsync(k => k.Id == created.Id));
        stored.SecretHash.ShouldBe(SHA256.HashData(Encoding.UTF8.GetBytes(created.Key)));

        var secret = created.Key[created.Prefix.Length..];
        (await RowsContainingAsync(created.Key)).ShouldBeEmpty();
        (await RowsContainingAsync(secret)).ShouldBeEmpty();
        (await RowsContainingAsync(created.Prefix.TrimEnd('_')["crowd_".Length..])).ShouldBe(["api_keys"], "the prefix is what finds the row");
    }

    [Fact]
    public async Task ListingShowsTheOrganisationsOwnKeysAndNeverTheirSecrets()
    {
        var (requester, _, _) = await app.RequesterAsync();
        var (other, _, _) = await app.RequesterAsync();
        var first = await CreateKeyAsync(requester, "first");
        var second = await CreateKeyAsync(requester, "second");
        await CreateKeyAsync(other, "someone else's");
        await requester.DeleteAsync($"/api/api-keys/{first.Id}");

        var response = await requester.GetAsync("/api/api-keys");
        var body = await response.Content.ReadAsStringAsync();
        var keys = (await response.Content.ReadFromJsonAsync<List<ApiKeyResponse>>())!;

        keys.Select(k => k.Name).ShouldBe(["second", "first"]);
        keys.Single(k => k.Name == "first").RevokedAt.ShouldNotBeNull();
        keys.Single(k => k.Name == "second").Prefix.ShouldBe(second.Prefix);
        body.ShouldNotContain(first.Key);
        body.ShouldNotContain(second.Key);
        body.ShouldNotContain("secret", Case.Insensitive);
    }

    [Fact]
    public async Task AContributorCannotCreateKeys()
    {
        var contributor = await app.CreateUserAsync(Roles.Contributor);
        var client = await app.SignedInClientAsync(contributor.Email!);

        (await client.PostAsJsonAsync("/api/api-keys", new CreateApiKeyRequest("mine"))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await client.GetAsync("/api/api-keys")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task AnApiKeyCannotCreateKeys()
    {
        var (requester, _, organisationId) = await app.RequesterAsync();
        var created = await CreateKeyAsync(requester, "automation");
        var withKey = app.AnonymousClient();
        withKey.DefaultRequestHeaders.Add("X-Api-Key", created.Key);

        var response = await withKey.PostAsJsonAsync("/api/api-keys", new CreateApiKeyRequest("minted by a key"));

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail
            .ShouldBe("An API key cannot create API keys. Sign in with your account to create one.");
        (await app.WithDbAsync(db => db.ApiKeys.CountAsync(k => k.OrganisationId == organisationId))).ShouldBe(1);
    }

    [Fact]
    public async Task AnotherOrganisationCannotRevokeYourKey()
    {
        var (requester, _, _) = await app.RequesterAsync();
        var (stranger, _, _) = await app.RequesterAsync();
        var created = await CreateKeyAsync(requester, "ours");

        var response = await stranger.DeleteAsync($"/api/api-keys/{created.Id}");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await MeWithKeyAsync(created.Key, bearer: false)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("crowd_")]
    [InlineData("crowd__secret")]
    [InlineData("crowd_0123456789ab_not-the-secret")]
    [InlineData("crowd_nosuchprefix")]
    public async Task AMalformedOrUnknownKeyIsRefusedWith401(string key)
    {
        (await MeWithKeyAsync(key, bearer: false)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await MeWithKeyAsync(key, bearer: true)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AKeyWithATamperedSecretIsRefused()
    {
        var (requester, _, _) = await app.RequesterAsync();
        var created = await CreateKeyAsync(requester, "tamper");

        var tampered = created.Key[..^1] + (created.Key[^1] == 'A' ? 'B' : 'A');

        (await MeWithKeyAsync(tampered, bearer: false)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public async Task AKeyNeedsAName(string? name)
    {
        var (requester, _, _) = await app.RequesterAsync();

        var response = await requester.PostAsJsonAsync("/api/api-keys", new CreateApiKeyRequest(name));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["name"]
            .ShouldBe(["Give the key a name, such as the program that will use it."]);
    }

    [Fact]
    public async Task AKeyNameOfMoreThan100CharactersIsRefusedInTheReadersLanguage()
    {
        var (requester, _, _) = await app.RequesterAsync();
        requester.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN");

        var response = await requester.PostAsJsonAsync("/api/api-keys", new CreateApiKeyRequest(new string('k', 101)));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["name"].ShouldBe(["密钥名称不能超过 100 个字符。"]);
        (await requester.PostAsJsonAsync("/api/api-keys", new CreateApiKeyRequest(new string('k', 100)))).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task AnOrganisationHoldsAtMostTwentyActiveKeys()
    {
        var (requester, _, _) = await app.RequesterAsync();
        var keys = new List<CreatedApiKeyResponse>();
        for (var i = 0; i < ApiKeyRules.MaxActiveKeysPerOrganisation; i++)
        {
            keys.Add(await CreateKeyAsync(requester, $"key {i}"));
        }

        var refused = await requester.PostAsJsonAsync("/api/api-keys", new CreateApiKeyRequest("one too many"));
        refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await refused.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["name"]
            .ShouldBe(["Your organisation already has 20 active keys, the most allowed. Revoke one you no longer use first."]);

        await requester.DeleteAsync($"/api/api-keys/{keys[0].Id}");
        (await requester.PostAsJsonAsync("/api/api-keys", new CreateApiKeyRequest("replacement"))).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task UsingAKeyRecordsWhenItWasLastUsed()
    {
        var (requester, _, _) = await app.RequesterAsync();
        var created = await CreateKeyAsync(requester, "used");
        (await requester.GetFromJsonAsync<List<ApiKeyResponse>>("/api/api-keys"))!.Single().LastUsedAt.ShouldBeNull();

        await MeWithKeyAsync(created.Key, bearer: true);

        (await requester.GetFromJsonAsync<List<ApiKeyResponse>>("/api/api-keys"))!.Single().LastUsedAt.ShouldNotBeNull();
    }

    [Fact]
    public async Task WithoutSigningInTheKeysApiAnswers401()
    {
        (await app.AnonymousClient().GetAsync("/api/api-keys")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    private static async Task<CreatedApiKeyResponse> CreateKeyAsync(HttpClient requester, string name)
    {
        var response = await requester.PostAsJsonAsync("/api/api-keys", new CreateApiKeyRequest(name));
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var created = (await response.Content.ReadFromJsonAsync<CreatedApiKeyResponse>())!;
        response.Headers.Location!.ToString().ShouldBe($"/api/api-keys/{created.Id}");
        return created;
    }

    private async Task<HttpResponseMessage> MeWithKeyAsync(string key, bool bearer)
    {
        var client = app.AnonymousClient();
        if (bearer)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        else
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
        }
        return await client.GetAsync("/api/accounts/me");
    }

    /// <summary>Every table whose rows, read as text, contain the value.</summary>
    private async Task<List<string>> RowsContainingAsync(string value)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }
        var containing = new List<string>();
        foreach (var table in tables)
        {
            await using var search = new NpgsqlCommand($"SELECT count(*) FROM \"{table}\" t WHERE strpos(t::text, @v) > 0", connection);
            search.Parameters.AddWithValue("v", value);
            if ((long)(await search.ExecuteScalarAsync())! > 0)
            {
                containing.Add(table);
            }
        }
        return containing;
    }
}
