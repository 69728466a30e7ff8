using System.Net;
using System.Text.Json;

namespace Crowd.Server.Features.Payouts.Stripe;

public enum StripeErrorKind
{
    InvalidRequest,
    Authentication,
    Permission,
    NotFound,
    Idempotency,
    RateLimit,
    Card,
    Api,
    Connection,
}

/// <summary>Stripe's error JSON ({"error": {"type", "code", "param", "message"}}) as a typed error.</summary>
public sealed class StripeException : Exception
{
    public StripeException(HttpStatusCode status, StripeErrorKind kind, string? code, string? param, string message, string? requestId)
        : base(message)
    {
        Status = status;
        Kind = kind;
        Code = code;
        Param = param;
        RequestId = requestId;
        IsTransient = kind is StripeErrorKind.RateLimit or StripeErrorKind.Api or StripeErrorKind.Connection;
    }

    public StripeException()
        : this("Stripe request failed.")
    {
    }

    public StripeException(string message)
        : this(0, StripeErrorKind.Api, null, null, message, null)
    {
    }

    public StripeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public HttpStatusCode Status { get; }
    public StripeErrorKind Kind { get; }
    public string? Code { get; }
    public string? Param { get; }
    public string? RequestId { get; }
    /// <summary>Worth retrying with the same idempotency key (429, 5xx, no answer).</summary>
    public bool IsTransient { get; internal set; }

    public static StripeException FromResponse(HttpStatusCode status, string body, string? requestId)
    {
        string? type = null, code = null, param = null, message = null;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                type = Text(error, "type");
                code = Text(error, "code");
                param = Text(error, "param");
                message = Text(error, "message");
            }
        }
        catch (JsonException)
        {
        }
        var kind = (int)status switch
        {
            401 => StripeErrorKind.Authentication,
            403 => StripeErrorKind.Permission,
            404 => StripeErrorKind.NotFound,
            429 => StripeErrorKind.RateLimit,
            >= 500 => StripeErrorKind.Api,
            _ => type switch
            {
                "card_error" => StripeErrorKind.Card,
                "idempotency_error" => StripeErrorKind.Idempotency,
                "api_error" => StripeErrorKind.Api,
                _ => StripeErrorKind.InvalidRequest,
            },
        };
        return new StripeException(status, kind, code, param, message ?? $"Stripe answered {(int)status}.", requestId);
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
