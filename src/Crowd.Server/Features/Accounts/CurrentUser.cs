using System.Security.Claims;

namespace Crowd.Server.Features.Accounts;

public static class CrowdClaims
{
    public const string OrganisationId = "crowd:org";
    public const string ApiKeyId = "crowd:apikey";

    public static Guid UserId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("Not signed in."));

    public static Guid? OrganisationIdOrNull(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirstValue(OrganisationId), out var id) ? id : null;

    public static bool IsApiKey(this ClaimsPrincipal user) => user.HasClaim(c => c.Type == ApiKeyId);
}
