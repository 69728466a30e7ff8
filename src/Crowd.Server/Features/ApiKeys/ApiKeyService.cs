using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.ApiKeys;

public sealed record CreateApiKeyRequest(string? Name);

/// <summary>The one time a key is returned in full.</summary>
public sealed record CreatedApiKeyResponse(Guid Id, string Name, string Prefix, string Key, DateTimeOffset CreatedAt);

/// <summary>A key as listed: never its secret.</summary>
public sealed record ApiKeyResponse(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>What a new key must satisfy. Pure: no HTTP, no database.</summary>
public static class ApiKeyRules
{
    public const int MaxNameLength = 100;
    public const int MaxActiveKeysPerOrganisation = 20;

    public static List<FieldError> Validate(string? name, int activeKeys)
    {
        var errors = new List<FieldError>();
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            errors.Add(new("name", "Give the key a name, such as the program that will use it."));
        }
        else if (trimmed.Length > MaxNameLength)
        {
            errors.Add(new("name", "Keep the key name to {0} characters or fewer.", MaxNameLength));
        }
        else if (TextRules.Check("name", trimmed, TextKind.Line) is { } text)
        {
            errors.Add(text);
        }
        if (activeKeys >= MaxActiveKeysPerOrganisation)
        {
            errors.Add(new("name", "Your organisation already has {0} active keys, the most allowed. Revoke one you no longer use first.",
                MaxActiveKeysPerOrganisation));
        }
        return errors;
    }
}

/// <summary>Creating, listing and revoking an organisation's keys; shared by the API and the page.</summary>
public sealed class ApiKeyService(CrowdDb db, TimeProvider clock)
{
    public async Task<(CreatedApiKeyResponse? Created, List<FieldError> Errors)> CreateAsync(
        Guid organisationId, Guid userId, string? name, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Serialises concurrent creations for one organisation so the cap on active keys holds.
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM organisations WHERE id = {organisationId} FOR UPDATE", ct);
        var active = await db.ApiKeys.CountAsync(k => k.OrganisationId == organisationId && k.RevokedAt == null, ct);
        var errors = ApiKeyRules.Validate(name, active);
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var (key, prefix, hash) = ApiKeyFormat.Create();
        var entity = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            OrganisationId = organisationId,
            CreatedByUserId = userId,
            Name = name!.Trim(),
            Prefix = prefix,
            SecretHash = hash,
            CreatedAt = clock.GetUtcNow(),
        };
        db.ApiKeys.Add(entity);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return (new CreatedApiKeyResponse(entity.Id, entity.Name, ApiKeyFormat.VisiblePart(prefix), key, entity.CreatedAt), errors);
    }

    public async Task<List<ApiKeyResponse>> ListAsync(Guid organisationId, CancellationToken ct)
    {
        var keys = await db.ApiKeys.AsNoTracking()
            .Where(k => k.OrganisationId == organisationId)
            .OrderBy(k => k.RevokedAt != null).ThenByDescending(k => k.CreatedAt)
            .ToListAsync(ct);
        return keys.ConvertAll(k => new ApiKeyResponse(k.Id, k.Name, ApiKeyFormat.VisiblePart(k.Prefix), k.CreatedAt, k.LastUsedAt, k.RevokedAt));
    }

    /// <summary>Revokes the key if it belongs to the organisation; revoking twice keeps the first time. False when there is no such key.</summary>
    public async Task<bool> RevokeAsync(Guid organisationId, Guid id, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var updated = await db.ApiKeys.Where(k => k.Id == id && k.OrganisationId == organisationId)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, k => k.RevokedAt ?? now), ct);
        return updated == 1;
    }
}
