using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.ApiKeys;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Infrastructure.Web;

/// <summary>
/// Refuses what another site can make a signed-in browser send. Pages' forms carry antiforgery tokens; this covers the
/// rest: unsafe /api calls that the sign-in cookie authenticates, and the SignalR handshake on /hubs.
/// <para>
/// Browsers name the origin of every cross-site POST, PUT, PATCH and DELETE (as "null" when the page hides it) and of
/// every WebSocket handshake, so a request from a page is accepted only when that origin is Crowd's own. A request naming
/// no origin at all comes from a program rather than a page; it still may not look like a form post (POST with a form or
/// plain-text body), the one unsafe request another site can send without the browser asking this server first. API keys are not sent by browsers on
/// their own, so calls with a key are not checked.
/// </para>
/// </summary>
public static class SameOrigin
{
    private static readonly string[] s_formContentTypes = ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"];

    public static IApplicationBuilder UseSameOriginChecks(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (Refuses(context.Request, context.RequestServices.GetRequiredService<IOptions<CrowdOptions>>().Value.PublicUrl))
            {
                var text = context.RequestServices.GetRequiredService<IStringLocalizer<WebText>>();
                await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: text["Request from another site"],
                    detail: text["This request did not come from a Crowd page, so it was refused. Open Crowd at its usual address and try again."])
                    .ExecuteAsync(context);
                return;
            }
            await next(context);
        });

    public static bool Refuses(HttpRequest request, Uri? publicUrl)
    {
        var source = SourceOrigin(request);
        if (request.Path.StartsWithSegments("/hubs"))
        {
            return source is not null && !IsOwn(source, request, publicUrl);
        }
        if (!request.Path.StartsWithSegments("/api") || HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)
            || HttpMethods.IsOptions(request.Method) || HttpMethods.IsTrace(request.Method)
            || ApiKeyFormat.FromRequest(request) is not null || !request.Cookies.ContainsKey(AccountsSetup.CookieName))
        {
            return false;
        }
        return source is not null
            ? !IsOwn(source, request, publicUrl)
            : HttpMethods.IsPost(request.Method) && s_formContentTypes.Any(t => request.ContentType?.StartsWith(t, StringComparison.OrdinalIgnoreCase) == true);
    }

    /// <summary>The Origin header, else the origin of the Referer; "null" stays "null" (an opaque origin is never ours).</summary>
    private static string? SourceOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length > 0)
        {
            return origin;
        }
        var referer = request.Headers.Referer.ToString();
        if (referer.Length == 0)
        {
            return null;
        }
        return Uri.TryCreate(referer, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : "null";
    }

    private static bool IsOwn(string origin, HttpRequest request, Uri? publicUrl)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var source))
        {
            return false;
        }
        // The browser sets Host to the site it is talking to, so the request's own origin is as good as the configured one
        // (and is what a node reached directly, or a test server on a random port, has).
        var own = request.Host.HasValue && Uri.TryCreate($"{request.Scheme}://{request.Host.Value}", UriKind.Absolute, out var here) ? here : null;
        return SameAuthority(source, publicUrl) || SameAuthority(source, own);
    }

    private static bool SameAuthority(Uri source, Uri? expected) =>
        expected is not null
        && string.Equals(source.Scheme, expected.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(source.IdnHost, expected.IdnHost, StringComparison.OrdinalIgnoreCase)
        && source.Port == expected.Port;
}
