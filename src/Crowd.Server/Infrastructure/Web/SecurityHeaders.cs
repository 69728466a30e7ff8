using Microsoft.Extensions.Options;

namespace Crowd.Server.Infrastructure.Web;

/// <summary>
/// The headers every response carries: pages, the API, audio, /docs, static files and errors alike. The content security
/// policy lives here and only here; a path that needs more (a third-party dashboard with inline styles, say) gets an
/// entry in <see cref="s_relaxations"/> rather than a second policy elsewhere.
/// </summary>
public static class SecurityHeaders
{
    // The recorder needs: its module script and AudioWorklet from this origin (script-src, worker-src), the SignalR
    // WebSocket back to this origin (connect-src), and playback of blob: audio (media-src). Pages post forms only to
    // themselves, except the card-payment and payout-onboarding redirects to Stripe's hosted pages (added from settings).
    private static readonly ContentSecurityPolicy s_default = new(new Dictionary<string, string>
    {
        ["default-src"] = "'self'",
        ["script-src"] = "'self'",
        ["style-src"] = "'self'",
        ["img-src"] = "'self' data:",
        ["font-src"] = "'self'",
        ["media-src"] = "'self' blob:",
        ["worker-src"] = "'self'",
        ["connect-src"] = "'self'",
        ["object-src"] = "'none'",
        ["base-uri"] = "'self'",
        ["form-action"] = "'self'",
        ["frame-ancestors"] = "'none'",
    });

    /// <summary>Path prefixes whose pages need a wider policy than the default, with the directives they replace.</summary>
    private static readonly (PathString Prefix, ContentSecurityPolicy Policy)[] s_relaxations =
    [
        // Swagger UI's bundle injects its own <style> element; scripts stay 'self' only.
        (new PathString("/docs"), new(new Dictionary<string, string> { ["style-src"] = "'self' 'unsafe-inline'" })),
        // Hangfire's dashboard colours job states with inline style attributes; its scripts are its own files, 'self' only.
        (new PathString(Scheduling.JobsDashboard.Path), new(new Dictionary<string, string> { ["style-src"] = "'self' 'unsafe-inline'" })),
    ];

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app)
    {
        var stripe = app.ApplicationServices.GetRequiredService<IOptions<CrowdOptions>>().Value.Stripe;
        var basePolicy = s_default.With(new(new Dictionary<string, string>
        {
            ["form-action"] = string.Join(' ', stripe.HostedPageOrigins.Select(o => o.GetLeftPart(UriPartial.Authority))
                .Prepend("'self' https://checkout.stripe.com https://connect.stripe.com")),
        }));
        return app.Use((context, next) =>
        {
            // Set when the response starts rather than now: the exception handler clears headers before it writes a 500.
            context.Response.OnStarting(state =>
            {
                var http = (HttpContext)state;
                var headers = http.Response.Headers;
                headers.ContentSecurityPolicy = PolicyFor(basePolicy, http.Request).ToString();
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
                headers.XFrameOptions = "DENY";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                headers["Permissions-Policy"] = "camera=(), geolocation=(), payment=(), usb=(), microphone=(self)";
                headers.Remove("Server");
                return Task.CompletedTask;
            }, context);
            return next(context);
        });
    }

    private static ContentSecurityPolicy PolicyFor(ContentSecurityPolicy basePolicy, HttpRequest request)
    {
        var policy = basePolicy;
        // A branch (Hangfire's dashboard is one) moves the part of the path it matched into PathBase while it runs.
        var path = request.PathBase.Add(request.Path);
        foreach (var (prefix, relaxed) in s_relaxations)
        {
            if (path.StartsWithSegments(prefix))
            {
                policy = policy.With(relaxed);
            }
        }
        // Browsers that predate CSP level 3 do not count ws:/wss: to this host as 'self'.
        return request.Host.HasValue && request.Host.Value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']')
            ? policy.With(new(new Dictionary<string, string>
            {
                ["connect-src"] = $"{policy["connect-src"]} ws://{request.Host.Value} wss://{request.Host.Value}",
            }))
            : policy;
    }
}

/// <summary>A content security policy as directive → sources; <see cref="With"/> replaces whole directives.</summary>
public sealed class ContentSecurityPolicy(IReadOnlyDictionary<string, string> directives)
{
    public string this[string directive] => directives.TryGetValue(directive, out var sources) ? sources : "";

    public ContentSecurityPolicy With(ContentSecurityPolicy other)
    {
        var merged = new Dictionary<string, string>(directives);
        foreach (var (directive, sources) in other.Directives)
        {
            merged[directive] = sources;
        }
        return new ContentSecurityPolicy(merged);
    }

    public IReadOnlyDictionary<string, string> Directives => directives;

    public override string ToString() => string.Join("; ", directives.Select(d => $"{d.Key} {d.Value}"));
}
