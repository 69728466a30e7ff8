using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Crowd.Server.Tests.Infrastructure;

public sealed record RecordedRequest(string Method, string Path, string Body, IReadOnlyDictionary<string, string> Headers)
{
    public Dictionary<string, string> Form =>
        Body.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p.Length > 1 ? p[1].Replace('+', ' ') : ""));

    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : null;
}

/// <summary>An answer a test scripts for the next API request; <paramref name="ShouldRetry"/> becomes the Stripe-Should-Retry header.</summary>
public sealed record ScriptedAnswer(int Status, string Body, bool? ShouldRetry = null)
{
    public static implicit operator ScriptedAnswer((int Status, string Body) answer) => new(answer.Status, answer.Body);
}

/// <summary>A Checkout Session the fake opened, and what became of it.</summary>
public sealed record FakeCheckout(string Id, long Amount, string Currency, string SuccessUrl, string CancelUrl, IReadOnlyDictionary<string, string> Form)
{
    public string? PaymentIntent { get; set; }
    public int? WebhookStatus { get; set; }
}

/// <summary>
/// A local HTTP server that answers like Stripe. It refuses what Stripe would (a wrong key, another API version than the
/// one Stripe.net pins, a POST without Idempotency-Key), records every API request exactly as sent, replays the first
/// answer for a repeated Idempotency-Key (as Stripe does), and lets a test script failures (429, 5xx, error JSON) per
/// request. It also stands in for Stripe's hosted Checkout page: paying there sends the signed
/// <c>checkout.session.completed</c> webhook to <see cref="WebhookUrl"/>, then returns the browser to the success URL.
/// </summary>
public sealed class FakeStripe : IAsyncDisposable
{
    /// <summary>The API version Stripe.net 53.1.0 sends and the version its webhook events are rendered for.</summary>
    public const string PinnedApiVersion = "2026-10-28.endive";
    public const string SecretKey = "sk_test_crowd";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (int Status, string Body)> _byIdempotencyKey = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentDictionary<string, FakeCheckout> _checkouts = new();
    private readonly HttpClient _webhooks = new();
    private int _transfers;

    private FakeStripe(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;
    /// <summary>Requests to the API (/v1/…), not the hosted pages.</summary>
    public IReadOnlyList<RecordedRequest> Requests => _requests.ToList();
    /// <summary>Transfers actually created (not replays of an idempotency key).</summary>
    public int TransfersCreated => _transfers;
    /// <summary>Answers to hand out first, in order, before the normal behaviour.</summary>
    public ConcurrentQueue<ScriptedAnswer> Scripted { get; } = new();
    public Dictionary<string, string> AccountStates { get; } = new();
    public IReadOnlyCollection<FakeCheckout> Checkouts => _checkouts.Values.ToList();

    /// <summary>Where paid Checkout Sessions are reported, and the secret that signs the reports.</summary>
    public Uri? WebhookUrl { get; set; }
    public string WebhookSecret { get; set; } = "whsec_fake";

    public static async Task<FakeStripe> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeStripe(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseAddress = new Uri(address.TrimEnd('/') + "/");
        return fake;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        if (context.Request.Path.StartsWithSegments("/pay"))
        {
            await HostedPageAsync(context, body);
            return;
        }
        var request = new RecordedRequest(context.Request.Method, context.Request.Path, body,
            context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()));
        _requests.Enqueue(request);

        var answer = Answer(request);
        context.Response.StatusCode = answer.Status;
        context.Response.ContentType = "application/json";
        context.Response.Headers["Request-Id"] = "req_" + Guid.NewGuid().ToString("N")[..14];
        if (answer.ShouldRetry is { } retry)
        {
            context.Response.Headers["Stripe-Should-Retry"] = retry ? "true" : "false";
        }
        await context.Response.WriteAsync(answer.Body);
    }

    private ScriptedAnswer Answer(RecordedRequest request)
    {
        if (request.Header("Authorization") != "Bearer " + SecretKey)
        {
            return new(401, Error("invalid_request_error", null, "Invalid API Key provided: sk_****"));
        }
        if (request.Header("Stripe-Version") != PinnedApiVersion)
        {
            return new(400, Error("invalid_request_error", "api_version_invalid", $"Invalid Stripe API version: {request.Header("Stripe-Version")}"));
        }
        var key = request.Header("Idempotency-Key");
        if (request.Method == "POST" && string.IsNullOrEmpty(key))
        {
            return new(400, Error("invalid_request_error", null, "This test account expects an Idempotency-Key on every POST."));
        }
        if (Scripted.TryDequeue(out var scripted))
        {
            return scripted;
        }
        if (request.Method == "POST" && _byIdempotencyKey.TryGetValue(key!, out var earlier))
        {
            return earlier;
        }
        var answer = Normal(request);
        if (request.Method == "POST" && answer.Item1 < 500)
        {
            _byIdempotencyKey[key!] = answer;
        }
        return answer;
    }

    private (int, string) Normal(RecordedRequest request)
    {
        var form = request.Form;
        switch (request.Method, request.Path)
        {
            case ("POST", "/v1/transfers"):
                if (!form.TryGetValue("destination", out var destination) || !destination.StartsWith("acct_", StringComparison.Ordinal))
                {
                    return (400, Error("invalid_request_error", "resource_missing", "No such destination: " + destination, "destination"));
                }
                Interlocked.Increment(ref _transfers);
                return (200, JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["id"] = "tr_" + Guid.NewGuid().ToString("N")[..16], ["object"] = "transfer", ["amount"] = long.Parse(form["amount"], CultureInfo.InvariantCulture),
                    ["currency"] = form["currency"], ["destination"] = destination, ["transfer_group"] = form.GetValueOrDefault("transfer_group"),
                }));
            case ("POST", "/v1/refunds"):
                if (!form.TryGetValue("payment_intent", out var intent) || !intent.StartsWith("pi_", StringComparison.Ordinal))
                {
                    return (400, Error("invalid_request_error", "resource_missing", "No such payment_intent: " + intent, "payment_intent"));
                }
                return (200, JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["id"] = "re_" + Guid.NewGuid().ToString("N")[..16], ["object"] = "refund", ["payment_intent"] = intent, ["status"] = "succeeded",
                    ["amount"] = long.Parse(form["amount"], CultureInfo.InvariantCulture), ["currency"] = "usd",
                }));
            case ("POST", "/v1/accounts"):
                return (200, JsonSerializer.Serialize(new { id = "acct_" + Guid.NewGuid().ToString("N")[..16], @object = "account", type = form["type"], email = form.GetValueOrDefault("email"),
                    charges_enabled = false, payouts_enabled = false, details_submitted = false }));
            case ("POST", "/v1/account_links"):
                return (200, JsonSerializer.Serialize(new { @object = "account_link", url = "https://connect.stripe.test/setup/e/" + form["account"], expires_at = 1_900_000_000, created = 1_800_000_000 }));
            case ("GET", var path) when path.StartsWith("/v1/accounts/", StringComparison.Ordinal):
                var id = path["/v1/accounts/".Length..];
                var enabled = AccountStates.GetValueOrDefault(id) == "enabled";
                return (200, JsonSerializer.Serialize(new { id, @object = "account", type = "express", charges_enabled = enabled, payouts_enabled = enabled, details_submitted = enabled }));
            case ("POST", "/v1/checkout/sessions"):
                return OpenCheckout(form);
            default:
                return (404, Error("invalid_request_error", null, $"Unrecognized request URL ({request.Method}: {request.Path})."));
        }
    }

    private (int, string) OpenCheckout(Dictionary<string, string> form)
    {
        if (!form.TryGetValue("line_items[0][price_data][unit_amount]", out var amountText) || !long.TryParse(amountText, CultureInfo.InvariantCulture, out var amount)
            || amount <= 0 || !form.TryGetValue("success_url", out var success) || !form.TryGetValue("cancel_url", out var cancel))
        {
            return (400, Error("invalid_request_error", "parameter_missing", "A payment session needs line_items, success_url and cancel_url.", "line_items"));
        }
        var checkout = new FakeCheckout("cs_test_" + Guid.NewGuid().ToString("N")[..20], amount, form["line_items[0][price_data][currency]"], success, cancel, form);
        _checkouts[checkout.Id] = checkout;
        return (200, SessionJson(checkout));
    }

    private string SessionJson(FakeCheckout checkout) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["id"] = checkout.Id, ["object"] = "checkout.session", ["mode"] = "payment", ["url"] = new Uri(BaseAddress, "pay/" + checkout.Id).ToString(),
        ["status"] = checkout.PaymentIntent is null ? "open" : "complete", ["payment_status"] = checkout.PaymentIntent is null ? "unpaid" : "paid",
        ["amount_total"] = checkout.Amount, ["currency"] = checkout.Currency, ["payment_intent"] = checkout.PaymentIntent,
        ["client_reference_id"] = checkout.Form.GetValueOrDefault("client_reference_id"),
        ["success_url"] = checkout.SuccessUrl, ["cancel_url"] = checkout.CancelUrl,
        ["metadata"] = checkout.Form.Where(f => f.Key.StartsWith("metadata[", StringComparison.Ordinal)).ToDictionary(f => f.Key[9..^1], f => f.Value),
    });

    /// <summary>Stripe's hosted payment page, reduced to a Pay button and a cancel link.</summary>
    private async Task HostedPageAsync(HttpContext context, string body)
    {
        var id = context.Request.Path.Value!["/pay/".Length..];
        if (!_checkouts.TryGetValue(id, out var checkout))
        {
            context.Response.StatusCode = 404;
            return;
        }
        if (HttpMethods.IsGet(context.Request.Method))
        {
            var amount = (checkout.Amount / 100m).ToString("N2", CultureInfo.InvariantCulture) + " " + checkout.Currency.ToUpperInvariant();
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync($"""
                <!doctype html><html><head><title>Pay {amount}</title></head><body>
                <h1>Test payment page</h1><p data-testid="fake-amount">{amount}</p>
                <form method="post" action="/pay/{id}"><button type="submit" data-testid="fake-pay">Pay {amount}</button></form>
                <a href="{WebUtility.HtmlEncode(checkout.CancelUrl)}" data-testid="fake-cancel">Cancel</a>
                </body></html>
                """);
            return;
        }
        _ = body;
        var paid = Pay(checkout);
        if (WebhookUrl is not null)
        {
            var eventBody = EventJson("evt_" + Guid.NewGuid().ToString("N")[..20], "checkout.session.completed", paid, DateTimeOffset.UtcNow);
            using var content = new StringContent(eventBody, Encoding.UTF8, "application/json");
            content.Headers.Add("Stripe-Signature", Signature(WebhookSecret, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), eventBody));
            checkout.WebhookStatus = (int)(await _webhooks.PostAsync(WebhookUrl, content)).StatusCode;
        }
        context.Response.Redirect(checkout.SuccessUrl);
    }

    /// <summary>Pays the session as the hosted page does; returns the paid session as a webhook event carries it.</summary>
    public string Pay(FakeCheckout checkout)
    {
        checkout.PaymentIntent ??= "pi_" + Guid.NewGuid().ToString("N")[..20];
        return SessionJson(checkout);
    }

    public static string Error(string type, string? code, string message, string? param = null) =>
        JsonSerializer.Serialize(new { error = new { type, code, message, param } });

    /// <summary>A Stripe event as a webhook delivers it, rendered for the pinned API version unless told otherwise.</summary>
    public static string EventJson(string id, string type, string objectJson, DateTimeOffset created, string apiVersion = PinnedApiVersion, string? account = null)
    {
        var connected = account is null ? "" : $",\"account\":\"{account}\"";
        var seconds = created.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $$$"""{"id":"{{{id}}}","object":"event","api_version":"{{{apiVersion}}}","created":{{{seconds}}},"livemode":false,"pending_webhooks":1,"type":"{{{type}}}"{{{connected}}},"data":{"object":{{{objectJson}}}}}""";
    }

    /// <summary>Stripe's webhook signature, computed here from its definition: HMAC-SHA256 of "t.body" with the secret.</summary>
    public static string V1(string secret, long t, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}")));

    public static string Signature(string secret, long t, string body) => $"t={t},v1={V1(secret, t, body)}";

    public async ValueTask DisposeAsync()
    {
        _webhooks.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
