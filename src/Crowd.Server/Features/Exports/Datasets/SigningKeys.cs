using System.Text.Json;
using Crowd.Server.Features.Audit;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Exports.Datasets;

/// <summary>An Ed25519 key of the platform. The private half is stored only wrapped by a key derived from the clip master key.</summary>
public sealed class DatasetSigningKey
{
    public string KeyId { get; set; } = "";
    public byte[] PublicKey { get; set; } = [];
    public byte[] WrappedPrivateKey { get; set; } = [];
    public DateTimeOffset ValidFrom { get; set; }
    /// <summary>When the key stopped signing (rotation); null for the current key.</summary>
    public DateTimeOffset? ValidUntil { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    public PublishedKey Published => new(KeyId, DatasetSignature.Algorithm, Convert.ToBase64String(PublicKey), ValidFrom, ValidUntil);
}

/// <summary>
/// The platform's dataset signing keys: the current one (created on first use), rotation, and the public set buyers pin.
/// Every node reads the same keys from the database and unwraps them with the master key it already holds.
/// </summary>
public sealed class DatasetSigningKeys(CrowdDb db, ExportKeys exportKeys, AuditLog audit, TimeProvider clock)
{
    public const string Issuer = "Crowd voice data platform";

    public const string RotationProcedure =
        "Keys are rotated by an admin (POST /api/admin/dataset-keys/rotate) at least yearly and at once if a key may be exposed. "
        + "Rotation closes the current key's window (validUntil) and starts a new key; every export and feed keeps naming the key that "
        + "signed it, and a signature verifies when its date lies inside that key's window, so older exports stay verifiable. "
        + "Buyers pin this file once (crowd dataset keys pin) and pin again after a rotation: new keys are added, pinned keys are "
        + "never replaced. A key that is withdrawn because it was compromised is removed from this file.";

    /// <summary>The key that signs now, with its private half unwrapped for this one use.</summary>
    public async Task<(string KeyId, byte[] PrivateKey)> CurrentAsync(CancellationToken ct)
    {
        var key = await CurrentRowAsync(ct) ?? await CreateAsync(ct);
        return (key.KeyId, exportKeys.Unwrap(key.WrappedPrivateKey, key.KeyId));
    }

    public async Task<PublishedKeySet> PublishedAsync(CancellationToken ct)
    {
        if (await CurrentRowAsync(ct) is null)
        {
            await CreateAsync(ct);
        }
        var keys = await db.Set<DatasetSigningKey>().AsNoTracking().OrderBy(k => k.ValidFrom).ToListAsync(ct);
        return new PublishedKeySet(DatasetSignature.KeySetFormat, Issuer, keys.Select(k => k.Published).ToList(), RotationProcedure);
    }

    /// <summary>Retires the current key (its window closes now) and starts a new one.</summary>
    public async Task<PublishedKey> RotateAsync(Guid adminId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var retired = await db.Set<DatasetSigningKey>().Where(k => k.ValidUntil == null).Select(k => k.KeyId).ToListAsync(ct);
        await db.Set<DatasetSigningKey>().Where(k => k.ValidUntil == null).ExecuteUpdateAsync(s => s.SetProperty(k => k.ValidUntil, now), ct);
        var key = NewKey(now);
        db.Add(key);
        await db.SaveChangesAsync(ct);
        await audit.AppendAsync(new AuditEvent("user", adminId, "dataset_key.rotated", "dataset_signing_key", key.KeyId, "",
            JsonSerializer.Serialize(new { retired })), ct);
        await tx.CommitAsync(ct);
        db.Entry(key).State = EntityState.Detached;
        return key.Published;
    }

    private Task<DatasetSigningKey?> CurrentRowAsync(CancellationToken ct) =>
        db.Set<DatasetSigningKey>().AsNoTracking().SingleOrDefaultAsync(k => k.ValidUntil == null, ct);

    private async Task<DatasetSigningKey> CreateAsync(CancellationToken ct)
    {
        var key = NewKey(clock.GetUtcNow());
        // Two nodes may both find no key: the unique index on the current key lets one insert win, and both use it.
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO dataset_signing_keys (key_id, public_key, wrapped_private_key, valid_from, valid_until, created_at)
            VALUES ({key.KeyId}, {key.PublicKey}, {key.WrappedPrivateKey}, {key.ValidFrom}, NULL, {key.CreatedAt})
            ON CONFLICT DO NOTHING
            """, ct);
        return (await CurrentRowAsync(ct))!;
    }

    private DatasetSigningKey NewKey(DateTimeOffset now)
    {
        // Whole microseconds, as PostgreSQL stores them: a signature made in the same instant is inside the window.
        now = now.AddTicks(-(now.UtcTicks % 10));
        var (privateKey, publicKey) = DatasetSignature.NewKeyPair();
        var keyId = DatasetSignature.KeyIdOf(publicKey, now);
        var key = new DatasetSigningKey
        {
            KeyId = keyId, PublicKey = publicKey, WrappedPrivateKey = exportKeys.Wrap(privateKey, keyId), ValidFrom = now, CreatedAt = now,
        };
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(privateKey);
        return key;
    }
}

internal sealed class DatasetSigningKeyConfiguration : IEntityTypeConfiguration<DatasetSigningKey>
{
    public void Configure(EntityTypeBuilder<DatasetSigningKey> e)
    {
        e.ToTable("dataset_signing_keys");
        e.HasKey(x => x.KeyId);
        e.Property(x => x.KeyId).HasMaxLength(64);
        e.Ignore(x => x.Published);
    }
}
