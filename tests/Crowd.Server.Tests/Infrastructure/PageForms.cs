using System.Net;
using System.Text.RegularExpressions;

namespace Crowd.Server.Tests.Infrastructure;

/// <summary>Drives Razor Pages forms over HTTP the way a browser without JavaScript does: GET the page, post its form with its antiforgery token.</summary>
public static partial class PageForms
{
    public static async Task<string> AntiforgeryTokenAsync(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return TokenIn(await response.Content.ReadAsStringAsync());
    }

    public static string TokenIn(string html)
    {
        var match = TokenInput().Match(html);
        match.Success.ShouldBeTrue("the page has no antiforgery token");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    public static async Task<HttpResponseMessage> PostFormAsync(this HttpClient client, string url, string? token,
        params (string Name, string? Value)[] fields)
    {
        var values = fields.Where(f => f.Value is not null).Select(f => new KeyValuePair<string, string>(f.Name, f.Value!)).ToList();
        if (token is not null)
        {
            values.Add(new("__RequestVerificationToken", token));
        }
        return await client.PostAsync(url, new FormUrlEncodedContent(values));
    }

    /// <summary>GETs the page for its token, then posts the form.</summary>
    public static async Task<HttpResponseMessage> SubmitAsync(this HttpClient client, string url, params (string Name, string? Value)[] fields) =>
        await client.PostFormAsync(url, await client.AntiforgeryTokenAsync(url), fields);

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

    /// <summary>GETs a page for its token, posts a form to one of its handlers, and returns the decoded answer.</summary>
    public static async Task<(HttpStatusCode Status, string Html)> SubmitToAsync(this HttpClient client, string pagePath, string postPath,
        IDictionary<string, string> fields)
    {
        var token = await client.AntiforgeryTokenAsync(pagePath);
        using var response = await client.PostFormAsync(postPath, token, fields.Select(f => (f.Key, (string?)f.Value)).ToArray());
        return (response.StatusCode, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenInput();
}
