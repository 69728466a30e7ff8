using System.Globalization;
using System.Threading.RateLimiting;
using Crowd.Server.Features.Accounts;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Infrastructure.Web;

public static class WebSetup
{
    public const string AuthLimit = "auth";
    public const string ApiLimit = "api";
    public static readonly CultureInfo[] Cultures = [new("en"), new("zh-Hans")];

    public static WebApplicationBuilder AddWeb(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.WebHost.ConfigureKestrel(o => o.AddServerHeader = false);
        services.AddSingleton(TimeProvider.System);
        services.AddProblemDetails();
        services.AddExceptionHandler<Money.AmountOutOfRangeHandler>();
        services.AddLocalization();
        // Razor escapes every non-ASCII character by default, which triples the size of a Chinese page and hides its text
        // from anyone reading the source; HTML-significant characters are still escaped.
        services.Configure<Microsoft.Extensions.WebEncoders.WebEncoderOptions>(o =>
            o.TextEncoderSettings = new System.Text.Encodings.Web.TextEncoderSettings(System.Text.Unicode.UnicodeRanges.All));
        services.AddRazorPages(o => o.RootDirectory = "/Features")
            .AddViewLocalization()
            .AddDataAnnotationsLocalization();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "crowd.af";
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddOpenApi();
        services.AddRequestLimits();
        services.Configure<RequestLocalizationOptions>(o =>
        {
            o.DefaultRequestCulture = new RequestCulture("en");
            o.SupportedCultures = Cultures;
            o.SupportedUICultures = Cultures;
            o.FallBackToParentCultures = true;
            o.FallBackToParentUICultures = true;
        });
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (context, ct) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                }
                var text = context.HttpContext.RequestServices.GetRequiredService<Microsoft.Extensions.Localization.IStringLocalizer<WebText>>();
                await Results.Problem(statusCode: 429, title: text["Too many requests"],
                    detail: text["Too many requests. Wait a moment and try again."]).ExecuteAsync(context.HttpContext);
            };
            // Authentication runs before the limiter, so a wrong, malformed or revoked API key is counted here before it
            // becomes a 401: guessing keys from one address ends in 429s.
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (context.User.Identity?.IsAuthenticated == true || !context.Request.Path.StartsWithSegments("/api")
                    || Features.ApiKeys.ApiKeyFormat.FromRequest(context.Request) is null)
                {
                    return RateLimitPartition.GetNoLimiter("");
                }
                var limits = context.RequestServices.GetRequiredService<IOptions<CrowdOptions>>().Value.RateLimits;
                return RateLimitPartition.GetFixedWindowLimiter("bad-key " + ClientAddress(context), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.FailedApiKeysPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                });
            });
            o.AddPolicy(AuthLimit, context =>
            {
                // Only attempts count: showing the sign-in or sign-up page again must not use up a person's tries.
                if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
                {
                    return RateLimitPartition.GetNoLimiter("read");
                }
                var limits = context.RequestServices.GetRequiredService<IOptions<CrowdOptions>>().Value.RateLimits;
                return RateLimitPartition.GetFixedWindowLimiter(ClientAddress(context), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.AuthPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                });
            });
            o.AddPolicy(ApiLimit, context =>
            {
                var limits = context.RequestServices.GetRequiredService<IOptions<CrowdOptions>>().Value.RateLimits;
                var caller = context.User.Identity?.IsAuthenticated == true
                    ? context.User.FindFirst(CrowdClaims.ApiKeyId)?.Value ?? context.User.UserId().ToString()
                    : ClientAddress(context);
                return RateLimitPartition.GetTokenBucketLimiter(caller, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limits.ApiPerSecond,
                    TokensPerPeriod = limits.ApiPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                });
            });
        });
        return builder;
    }

    public static WebApplication UseWeb(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler();
            app.UseHsts();
        }
        app.UseSecurityHeaders();
        app.UseStatusCodePages();
        app.UseRequestLocalization();
        app.UseStaticFiles();
        app.UseSameOriginChecks();
        app.UseRouting();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseRequestLimits();
        app.UseAntiforgery();

        app.MapOpenApi();
        app.UseSwaggerUI(o =>
        {
            o.RoutePrefix = "docs";
            o.SwaggerEndpoint("/openapi/v1.json", "Crowd API v1");
        });
        app.MapHealthChecks("/health");
        app.MapPost("/culture", ([Microsoft.AspNetCore.Mvc.FromForm] string culture, [Microsoft.AspNetCore.Mvc.FromForm] string? returnUrl, HttpContext http) =>
            {
                var chosen = Cultures.FirstOrDefault(c => c.Name == culture) ?? Cultures[0];
                http.Response.Cookies.Append(CookieRequestCultureProvider.DefaultCookieName,
                    CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(chosen)),
                    new CookieOptions { Expires = DateTimeOffset.UtcNow.AddYears(1), IsEssential = true, HttpOnly = true, SameSite = SameSiteMode.Lax });
                return Results.LocalRedirect(IsLocalUrl(returnUrl) ? returnUrl! : "/");
            })
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>A path on this site ("/Jobs?page=2"), never "//evil.example" or "/\\evil.example", which browsers read as another host.</summary>
    public static bool IsLocalUrl(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
        && !url.Any(char.IsControl);

    public static string ClientAddress(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}

/// <summary>Texts shared by every page and error (layout, generic problems). Translations in WebText.zh-Hans.resx.</summary>
public sealed class WebText;
