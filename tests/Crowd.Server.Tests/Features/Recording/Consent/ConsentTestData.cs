using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Recording.Consent;

public static partial class ConsentTestData
{
    public static DateOnly BornYearsAgo(int years) => DateOnly.FromDateTime(DateTime.UtcNow).AddYears(-years).AddDays(-1);

    public static async Task<(HttpClient Client, CrowdUser User)> SignedInContributorAsync(CrowdApp app, DateOnly? born = null)
    {
        var user = await app.CreateUserAsync(Roles.Contributor, dateOfBirth: born);
        return (await app.SignedInClientAsync(user.Email!), user);
    }

    /// <summary>The consent screen's data as the API gives it: version, exact text, its hash.</summary>
    public static async Task<JsonNode> ScreenAsync(HttpClient client, Guid jobId, string? language = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/recording/jobs/{jobId}/consent");
        if (language is not null)
        {
            request.Headers.AcceptLanguage.ParseAdd(language);
        }
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    public static Task<HttpResponseMessage> ConsentAsync(HttpClient client, Guid jobId, JsonNode screen, string signature,
        bool voiceCloning = false, int? version = null) =>
        client.PostAsJsonAsync($"/api/recording/jobs/{jobId}/consent", new
        {
            version = version ?? (int)screen["version"]!,
            textSha256 = (string)screen["textSha256"]!,
            signature,
            voiceCloning,
        });

    public static Task<HttpResponseMessage> AskGuardianAsync(HttpClient client, Guid jobId, JsonNode screen, string signature, string guardianEmail,
        bool voiceCloning = false) =>
        client.PostAsJsonAsync($"/api/recording/jobs/{jobId}/consent/guardian", new
        {
            version = (int)screen["version"]!,
            textSha256 = (string)screen["textSha256"]!,
            signature,
            voiceCloning,
            guardianEmail,
        });

    /// <summary>What publishing changed terms does: a new version snapshot, and the job pointing at it.</summary>
    public static Task PublishNewTermsAsync(CrowdApp app, Guid jobId, int version) =>
        app.WithDbAsync(async db =>
        {
            var terms = $$"""{"jobId":"{{jobId}}","version":{{version}},"retention":"shorter"}""";
            db.JobVersions.Add(new JobVersion
            {
                JobId = jobId,
                Version = version,
                TermsJson = terms,
                TermsSha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(terms))),
                PublishedAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync();
            await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Version, version)
                .SetProperty(j => j.Terms.RetentionDays, j => j.Terms.RetentionDays - 30));
        });

    public static string GuardianToken(string mailBody)
    {
        var match = GuardianLink().Match(mailBody);
        match.Success.ShouldBeTrue("the mail carries the confirmation link: " + mailBody);
        return match.Groups[1].Value;
    }

    public static string HiddenValue(string html, string name)
    {
        var match = Regex.Match(html, $"name=\"{name}\" value=\"([^\"]*)\"");
        match.Success.ShouldBeTrue($"the form has a hidden {name}");
        return match.Groups[1].Value;
    }

    [GeneratedRegex("/Guardian/([A-Za-z0-9_-]+)")]
    private static partial Regex GuardianLink();
}
