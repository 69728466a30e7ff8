using System.Security.Claims;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.ApiKeys;

public static class ApiKeysApi
{
    public static WebApplicationBuilder AddApiKeys(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<ApiKeyService>();
        builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyFormat.Scheme, null);
        return builder;
    }

    public static RouteGroupBuilder MapApiKeys(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/api-keys").WithTags("API keys")
            .RequireAuthorization(Roles.Requester)
            .RequireRateLimiting(WebSetup.ApiLimit);

        group.MapPost("/", Create);
        group.MapGet("/", List);
        group.MapDelete("/{id:guid}", Revoke);
        return group;
    }

    private static async Task<Results<Created<CreatedApiKeyResponse>, ValidationProblem, ProblemHttpResult>> Create(
        CreateApiKeyRequest request, ClaimsPrincipal principal, ApiKeyService keys, IStringLocalizer<ApiKeysText> text, CancellationToken ct)
    {
        if (principal.IsApiKey())
        {
            return CannotMintWithAKey(text);
        }
        var (created, errors) = await keys.CreateAsync(principal.OrganisationIdOrNull()!.Value, principal.UserId(), request.Name, ct);
        if (created is null)
        {
            return Problems.Validation(errors, text);
        }
        return TypedResults.Created($"/api/api-keys/{created.Id}", created);
    }

    private static async Task<Ok<List<ApiKeyResponse>>> List(ClaimsPrincipal principal, ApiKeyService keys, CancellationToken ct) =>
        TypedResults.Ok(await keys.ListAsync(principal.OrganisationIdOrNull()!.Value, ct));

    private static async Task<Results<NoContent, ProblemHttpResult>> Revoke(
        Guid id, ClaimsPrincipal principal, ApiKeyService keys, IStringLocalizer<ApiKeysText> text, CancellationToken ct) =>
        await keys.RevokeAsync(principal.OrganisationIdOrNull()!.Value, id, ct)
            ? TypedResults.NoContent()
            : Problems.Problem(StatusCodes.Status404NotFound, text, "API key not found",
                "Your organisation has no API key with this id.");

    internal static ProblemHttpResult CannotMintWithAKey(IStringLocalizer text) =>
        Problems.Problem(StatusCodes.Status403Forbidden, text, "Not allowed with an API key",
            "An API key cannot create API keys. Sign in with your account to create one.");
}

/// <summary>Texts of the API keys feature. Translations in ApiKeysText.zh-Hans.resx.</summary>
public sealed class ApiKeysText;
