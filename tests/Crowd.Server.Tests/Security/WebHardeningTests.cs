using System.Net;
using System.Net.Http.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.ApiKeys;
using Crowd.Server.Tests.Browser;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Crowd.Server.Tests.Security;

/// <summary>Headers on every kind of response, through real Kestrel (the in-memory server adds no Server header to remove).</summary>
public sealed class SecurityHeadersTests(KestrelApp app) : IClassFixture<KestrelApp>
{
    [Fact]
    public async Task PagesApiAudioDocsStaticFilesAndErrorsAllCarryTheSecurityHeadersAndNoServerHeader()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();
        var anonymous = app.AnonymousClient();
        var responses = new Dictionary<string, HttpResponseMessage>
        {
            ["page"] = await anonymous.GetAsync("/"),
            ["sign-in page"] = await anonymous.GetAsync("/Account/SignIn"),
            ["API"] = await requester.Client.GetAsync($"/api/jobs/{job.Id}"),
            ["API 401"] = await anonymous.GetAsync("/api/accounts/me"),
            ["audio"] = await requester.Client.GetAsync($"/api/reviews/clips/{Guid.NewGuid()}/audio"),
            ["docs"] = await anonymous.GetAsync("/docs/index.html"),
            ["OpenAPI"] = await anonymous.GetAsync("/openapi/v1.json"),
            ["static file"] = await anonymous.GetAsync("/css/site.css"),
            ["404"] = await anonymous.GetAsync("/no-such-page"),
            ["health"] = await anonymous.GetAsync("/health"),
        };

        foreach (var (what, response) in responses)
        {
            var csp = response.Headers.GetValues("Content-Security-Policy").Single();
            csp.ShouldContain("default-src 'self'", customMessage: what);
            csp.ShouldContain("script-src 'self';", customMessage: what);
            csp.ShouldContain("frame-ancestors 'none'", customMessage: what);
            csp.ShouldContain("worker-src 'self'", customMessage: what);
            csp.ShouldContain("media-src 'self' blob:", customMessage: what);
            csp.ShouldContain($"connect-src 'self' ws://{app.Address.Authority} wss://{app.Address.Authority}", customMessage: what);
            // Swagger UI injects its stylesheet, so /docs alone allows inline styles; no page allows inline scripts.
            csp.ShouldContain(what == "docs" ? "style-src 'self' 'unsafe-inline';" : "style-src 'self';", customMessage: what);
            response.Headers.GetValues("X-Content-Type-Options").Single().ShouldBe("nosniff", what);
            response.Headers.GetValues("Referrer-Policy").Single().ShouldBe("strict-origin-when-cross-origin", what);
            response.Headers.GetValues("X-Frame-Options").Single().ShouldBe("DENY", what);
            response.Headers.Contains("Server").ShouldBeFalse(what);
        }
        responses["audio"].StatusCode.ShouldBe(HttpStatusCode.NotFound);
        responses["docs"].StatusCode.ShouldBe(HttpStatusCode.OK);
        responses["static file"].StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}

/// <summary>The rest of the web hardening, through the in-memory server.</summary>
public sealed class WebHardeningTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task TheLanguageSwitchSendsAReturnUrlToAnotherSiteHomeInstead()
    {
        var client = app.AnonymousClient();
        var token = await client.AntiforgeryTokenAsync("/");

        foreach (var returnUrl in new[] { "//evil.example/", "/\\evil.example/", "https://evil.example/" })
        {
            using var response = await client.PostFormAsync("/culture", token, ("culture", "zh-Hans"), ("returnUrl", returnUrl));

            response.StatusCode.ShouldBe(HttpStatusCode.Redirect, returnUrl);
            response.Headers.Location!.ToString().ShouldBe("/", returnUrl);
        }
        using var local = await client.PostFormAsync("/culture", token, ("culture", "en"), ("returnUrl", "/Jobs?page=2"));
        local.Headers.Location!.ToString().ShouldBe("/Jobs?page=2");
    }

    [Fact]
    public async Task AnApiKeyOpensTheApiButNoPage()
    {
        var requester = await app.RequesterAsync();
        var key = (await (await requester.Client.PostAsJsonAsync("/api/api-keys", new CreateApiKeyRequest("pipeline")))
            .Content.ReadFromJsonAsync<CreatedApiKeyResponse>())!.Key;
        var withKey = app.AnonymousClient();
        withKey.DefaultRequestHeaders.Add(ApiKeyFormat.Header, key);

        (await withKey.GetAsync("/api/accounts/me")).StatusCode.ShouldBe(HttpStatusCode.OK);
        foreach (var page in new[] { "/Account/ApiKeys", "/Jobs/Edit", "/Jobs" })
        {
            using var response = await withKey.GetAsync(page);
            response.StatusCode.ShouldBe(HttpStatusCode.Redirect, page);
            response.Headers.Location!.AbsolutePath.ShouldBe("/Account/SignIn", page);
        }
    }

    [Fact]
    public async Task HttpsResponsesOutsideDevelopmentCarryStrictTransportSecurity()
    {
        // As the TLS proxy forwards it: the request arrived over https for the public host name.
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://crowd.example.org"), AllowAutoRedirect = false });

        using var response = await client.GetAsync("/");

        response.Headers.GetValues("Strict-Transport-Security").Single().ShouldStartWith("max-age=");
    }
}
