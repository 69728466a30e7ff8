using System.Net;
using System.Text.RegularExpressions;

namespace Crowd.Server.Tests.Infrastructure;

/// <summary>Posts a Razor Page form as a browser would: with the antiforgery token from the page it was on.</summary>
public static partial class PageForms
{
    public static async Task<string> GetPageAsync(this HttpClient client, string path, string? language = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (language is not null)
        {
            request.Headers.AcceptLanguage.ParseAdd(language);
        }
        using var response = await client.SendAsync(request);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, path);
        return await response.Content.ReadAsStringAsync();
    }

    public static async Task<(HttpStatusCode Status, string Html)> PostFormAsync(this HttpClient client, string pagePath, string postPath,
        IDictionary<string, string> fields)
    {
        var page = await client.GetPageAsync(pagePath);
        var token = TokenPattern().Match(page).Groups[1].Value;
        token.ShouldNotBeEmpty("the page has an antiforgery token");
        var form = new Dictionary<string, string>(fields) { ["__RequestVerificationToken"] = token };
        using var content = new FormUrlEncodedContent(form);
        using var response = await client.PostAsync(postPath, content);
        return (response.StatusCode, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
