using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Infrastructure.Web;

/// <summary>
/// How much a request may send, and what a caller hears when the request cannot be read: 413 problem details for a body
/// over its endpoint's limit (chunked bodies are counted while they are read), 400 problem details naming the JSON field
/// that is malformed or sent twice. Endpoints that take more than the default say so with <see cref="WithBodyLimit{TBuilder}"/>
/// (or [RequestSizeLimit] on a page); a caller who is not signed in gets the small limit whatever the endpoint, so that
/// anonymous endpoints (sign-in, sign-up, payment webhooks) cannot be made to read megabytes.
/// </summary>
public static class RequestLimits
{
    public const long DefaultBodyBytes = 1024 * 1024;
    public const long AnonymousBodyBytes = 256 * 1024;

    public static IServiceCollection AddRequestLimits(this IServiceCollection services)
    {
        // A key sent twice is ambiguous (which one did the caller mean?), so it is refused rather than resolved by the last one.
        services.Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(o => o.SerializerOptions.AllowDuplicateProperties = false);
        // Minimal APIs throw their binding failures instead of answering a bare 400, so the middleware below can explain them.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services;
    }

    /// <summary>After routing and authentication (the limit depends on the endpoint and the caller), before anything reads a body.</summary>
    public static IApplicationBuilder UseRequestLimits(this IApplicationBuilder app) => app.UseMiddleware<RequestLimitMiddleware>();

    public static TBuilder WithBodyLimit<TBuilder>(this TBuilder builder, long bytes) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequestSizeLimitAttribute(bytes));

    /// <summary>The body limit of this request: the endpoint's own, else the default; the anonymous limit caps both.</summary>
    public static long? LimitFor(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>();
        var limit = metadata is null ? DefaultBodyBytes : metadata.MaxRequestBodySize;
        return context.User.Identity?.IsAuthenticated == true ? limit : Math.Min(limit ?? long.MaxValue, AnonymousBodyBytes);
    }

    /// <summary>The JSON field a deserialisation error is about, as the API names it ("hourlyRate.minor"); "body" for the document itself.</summary>
    public static string FieldOf(JsonException e) =>
        e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "body";

    public static bool IsDuplicateProperty(JsonException e) =>
        e.InnerException is null && e.Message.StartsWith("Duplicate property", StringComparison.Ordinal);

    /// <summary>A size people read: "256 KB", "1 MB", "21 MB".</summary>
    public static string Size(long bytes) => bytes >= 1024 * 1024
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MB")
        : string.Create(CultureInfo.InvariantCulture, $"{Math.Max(1, bytes / 1024)} KB");
}

internal sealed class RequestLimitMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var limit = RequestLimits.LimitFor(context);
        LimitedBody? body = null;
        if (limit is { } max)
        {
            if (context.Request.ContentLength > max)
            {
                await TooLargeAsync(context, max);
                return;
            }
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } server)
            {
                server.MaxRequestBodySize = max;
            }
            if (context.Request.ContentLength is null && !context.WebSockets.IsWebSocketRequest)
            {
                body = new LimitedBody(context.Request.Body, max);
                context.Request.Body = body;
            }
        }
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            await BadRequestAsync(context, e, limit);
            return;
        }
        // Some readers (minimal APIs' JSON binding among them) end the request quietly when the body stream fails.
        if (body is { Exceeded: true } && !context.Response.HasStarted)
        {
            await TooLargeAsync(context, body.Limit);
        }
    }

    private static Task BadRequestAsync(HttpContext context, BadHttpRequestException e, long? limit)
    {
        var text = Text(context);
        if (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLargeAsync(context, limit ?? RequestLimits.DefaultBodyBytes);
        }
        if (e.InnerException is JsonException json)
        {
            var field = RequestLimits.FieldOf(json);
            var error = RequestLimits.IsDuplicateProperty(json)
                ? new FieldError(field, "\"{0}\" is sent more than once. Send each field once.", field)
                : field == "body"
                    ? new FieldError(field, "The request body is not valid JSON (near line {0}, byte {1}). Check its commas, quotes and brackets.",
                        (json.LineNumber ?? 0) + 1, (json.BytePositionInLine ?? 0) + 1)
                    : new FieldError(field, "\"{0}\" could not be read: check that it has the right type (text, number, true or false, object or list).", field);
            return Reset(context, Problems.Validation([error], text, "The request body could not be read."));
        }
        return e.StatusCode == StatusCodes.Status415UnsupportedMediaType
            ? Reset(context, Problems.Problem(e.StatusCode, text, "Unsupported content type",
                "This endpoint does not read bodies of this content type. Send JSON (Content-Type: application/json) unless its documentation says otherwise."))
            : Reset(context, Problems.Problem(e.StatusCode, text, "The request could not be read",
                "Check the request's body, its content type and its parameters against the API documentation at /docs."));
    }

    private static Task TooLargeAsync(HttpContext context, long limit)
    {
        return Reset(context, Problems.Problem(StatusCodes.Status413PayloadTooLarge, Text(context), "Request too large",
            "The request body is larger than the {0} this address accepts. Send less at once.", RequestLimits.Size(limit)));
    }

    private static Task Reset(HttpContext context, IResult result)
    {
        context.Response.Clear();
        return result.ExecuteAsync(context);
    }

    private static IStringLocalizer Text(HttpContext context) => context.RequestServices.GetRequiredService<IStringLocalizer<WebText>>();
}

/// <summary>A request body that refuses to be read past its limit, for bodies whose length is not announced (chunked).</summary>
internal sealed class LimitedBody(Stream inner, long limit) : Stream
{
    private long _read;

    public long Limit => limit;

    public bool Exceeded { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Count(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken));

    private int Count(int read)
    {
        _read += read;
        if (_read > limit)
        {
            Exceeded = true;
            throw new BadHttpRequestException("The request body is larger than its limit.", StatusCodes.Status413PayloadTooLarge);
        }
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
