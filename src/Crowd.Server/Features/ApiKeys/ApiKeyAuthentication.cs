using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.ApiKeys;

/// <summary>Key format: "crowd_" + public prefix + "_" + secret. The whole key is hashed; the prefix finds the row.</summary>
public static class ApiKeyFormat
{
    public const string Scheme = "ApiKey";
    public const string Header = "X-Api-Key";
    private const string Marker = "crowd_";

    public static (string Key, string Prefix, byte[] Hash) Create()
    {
        var prefix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var key = $"{Marker}{prefix}_{secret}";
        return (key, prefix, Hash(key));
    }

    /// <summary>The start of a key that lists may show: enough to tell keys apart, nothing that grants access.</summary>
    public static string VisiblePart(string prefix) => $"{Marker}{prefix}_";

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static bool TryParsePrefix(string key, out string prefix)
    {
        prefix = "";
        if (!key.StartsWith(Marker, StringComparison.Ordinal) || key.Length > 200)
        {
            return false;
        }
        var end = key.IndexOf('_', Marker.Length);
        if (end <= Marker.Length)
        {
            return false;
        }
        prefix = key[Marker.Length..end];
        return true;
    }

    /// <summary>The key from "Authorization: Bearer crowd_…" or "X-Api-Key: crowd_…", if the request carries one.</summary>
    public static string? FromRequest(HttpRequest request)
    {
        if (request.Headers.TryGetValue(Header, out var header) && header.Count == 1)
        {
            return header[0];
        }
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer " + Marker, StringComparison.Ordinal) ? authorization["Bearer ".Length..] : null;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    CrowdDb db, TimeProvider clock)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var key = ApiKeyFormat.FromRequest(Request);
        if (key is null)
        {
            return AuthenticateResult.NoResult();
        }
        if (!ApiKeyFormat.TryParsePrefix(key, out var prefix))
        {
            return AuthenticateResult.Fail("The API key is malformed.");
        }
        var stored = await db.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Prefix == prefix, Context.RequestAborted);
        if (stored is null || !CryptographicOperations.FixedTimeEquals(stored.SecretHash, ApiKeyFormat.Hash(key)))
        {
            return AuthenticateResult.Fail("The API key is not valid.");
        }
        if (stored.RevokedAt is not null)
        {
            return AuthenticateResult.Fail("The API key has been revoked.");
        }

        var now = clock.GetUtcNow();
        // Last use is informational; writing it at most once a minute keeps a hot key from turning every request into an update.
        await db.ApiKeys.Where(k => k.Id == stored.Id && (k.LastUsedAt == null || k.LastUsedAt < now.AddMinutes(-1)))
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), Context.RequestAborted);

        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, stored.CreatedByUserId.ToString()),
            new Claim(ClaimTypes.Role, Roles.Requester),
            new Claim(CrowdClaims.OrganisationId, stored.OrganisationId.ToString()),
            new Claim(CrowdClaims.ApiKeyId, stored.Id.ToString()),
        ], ApiKeyFormat.Scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiKeyFormat.Scheme));
    }
}
