using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Crowd.Server.Tests.Infrastructure;

public sealed record StripeRequest(string Method, string Path, string Body, IReadOnlyDictionary<string, string> Headers)
{
    public Dictionary<string, string> Form =>
        Body.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p.Length > 1 ? p[1].Replace('+', ' ') : ""));

    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : null;
}

/// <summary>
/// A local HTTP server that answers like Stripe: records every request exactly as sent, replays the first answer for a
/// repeated Idempotency-Key (as Stripe does), and lets a test script failures (429, 5xx, error JSON) per request.
/// </summary>
public sealed class FakeStripe : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (int Status, string Body)> _byIdempotencyKey = new();
    private readonly ConcurrentQueue<StripeRequest> _requests = new();
    private int _transfers;

    private FakeStripe(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;
    public IReadOnlyList<StripeRequest> Requests => _requests.ToList();
    /// <summary>Transfers actually created (not replays of an idempotency key).</summary>
    public int TransfersCreated => _transfers;
    /// <summary>Answers to hand out first, in order, before the normal behaviour (status, JSON body).</summary>
    public ConcurrentQueue<(int Status, string Body)> Scripted { get; } = new();
    public Dictionary<string, string> AccountStates { get; } = new();

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
        var request = new StripeRequest(context.Request.Method, context.Request.Path, body,
            context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()));
        _requests.Enqueue(request);

        var (status, json) = Answer(request);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers["Request-Id"] = "req_" + Guid.NewGuid().ToString("N")[..14];
        await context.Response.WriteAsync(json);
    }

    private (int, string) Answer(StripeRequest request)
    {
        if (request.Header("Authorization") != "Bearer sk_test_crowd")
        {
            return (401, Error("invalid_request_error", null, "Invalid API Key provided: sk_****"));
        }
        if (Scripted.TryDequeue(out var scripted))
        {
            return scripted;
        }
        var key = request.Header("Idempotency-Key");
        if (request.Method == "POST" && key is not null && _byIdempotencyKey.TryGetValue(key, out var earlier))
        {
            return earlier;
        }
        var answer = Normal(request);
        if (request.Method == "POST" && key is not null && answer.Item1 < 500)
        {
            _byIdempotencyKey[key] = answer;
        }
        return answer;
    }

    private (int, string) Normal(StripeRequest request)
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
                    ["id"] = "tr_" + Guid.NewGuid().ToString("N")[..16], ["object"] = "transfer", ["amount"] = long.Parse(form["amount"], System.Globalization.CultureInfo.InvariantCulture),
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
                    ["amount"] = long.Parse(form["amount"], System.Globalization.CultureInfo.InvariantCulture), ["currency"] = "usd",
                }));
            case ("POST", "/v1/accounts"):
                return (200, JsonSerializer.Serialize(new { id = "acct_" + Guid.NewGuid().ToString("N")[..16], @object = "account", type = form["type"], email = form.GetValueOrDefault("email"),
                    charges_enabled = false, payouts_enabled = false, details_submitted = false }));
            case ("POST", "/v1/account_links"):
                return (200, JsonSerializer.Serialize(new { @object = "account_link", url = "https://connect.stripe.test/setup/e/" + form["account"], expires_at = 1_900_000_000 }));
            case ("GET", var path) when path.StartsWith("/v1/accounts/", StringComparison.Ordinal):
                var id = path["/v1/accounts/".Length..];
                var enabled = AccountStates.GetValueOrDefault(id) == "enabled";
                return (200, JsonSerializer.Serialize(new { id, @object = "account", type = "express", charges_enabled = enabled, payouts_enabled = enabled, details_submitted = enabled }));
            default:
                return (404, Error("invalid_request_error", null, $"Unrecognized request URL ({request.Method}: {request.Path})."));
        }
    }

    public static string Error(string type, string? code, string message, string? param = null) =>
        JsonSerializer.Serialize(new { error = new { type, code, message, param } });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
