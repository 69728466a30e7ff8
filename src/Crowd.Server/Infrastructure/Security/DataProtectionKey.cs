using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Infrastructure.Security;

/// <summary>
/// ASP.NET Core's data-protection keys (they sign the auth and antiforgery cookies) live in PostgreSQL so that a
/// restart keeps people signed in and every node behind a load balancer reads the same cookies.
/// </summary>
public sealed class DataProtectionKey
{
    public int Id { get; set; }
    public string FriendlyName { get; set; } = "";
    public string Xml { get; set; } = "";
}

public sealed class PostgresXmlRepository(IServiceScopeFactory scopes) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<CrowdDb>();
        return db.DataProtectionKeys.AsNoTracking().Select(k => k.Xml).ToList().Select(XElement.Parse).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<CrowdDb>();
        db.DataProtectionKeys.Add(new DataProtectionKey { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        db.SaveChanges();
    }
}

/// <summary>The key that encrypts the data-protection keys at rest (Crowd:Keys:DataProtection), kept out of the database.</summary>
public sealed class KeyRingKey(byte[] key)
{
    public ReadOnlySpan<byte> Key => key;

    /// <summary>A fingerprint that names the key in stored XML and errors without revealing it.</summary>
    public string Id { get; } = Convert.ToHexStringLower(SHA256.HashData(key).AsSpan(0, 4));
}

/// <summary>
/// Encrypts each data-protection key with AES-256-GCM under the key-ring key before it is stored, so that reading the
/// data_protection_keys table (a backup, a replica, a stolen dump) does not let anyone forge cookies or read protected data.
/// </summary>
public sealed class KeyRingEncryptor(KeyRingKey key) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        try
        {
            var sealedKey = AesGcmSeal.Seal(key.Key, plaintext, KeyRingDecryptor.AssociatedData);
            return new EncryptedXmlInfo(
                new XElement(KeyRingDecryptor.ElementName,
                    new XAttribute("algorithm", "AES-256-GCM"),
                    new XAttribute("keyId", key.Id),
                    Convert.ToBase64String(sealedKey)),
                typeof(KeyRingDecryptor));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}

/// <summary>Created by the data-protection system from the type name stored beside each encrypted key.</summary>
public sealed class KeyRingDecryptor(IServiceProvider services) : IXmlDecryptor
{
    internal const string ElementName = "crowdEncryptedKey";
    internal static readonly byte[] AssociatedData = Encoding.ASCII.GetBytes("crowd data-protection key v1");

    public XElement Decrypt(XElement encryptedElement)
    {
        ArgumentNullException.ThrowIfNull(encryptedElement);
        var key = services.GetRequiredService<KeyRingKey>();
        var keyId = (string?)encryptedElement.Attribute("keyId");
        if (keyId != key.Id)
        {
            throw new CryptographicException(
                $"This data-protection key was encrypted with key-ring key {keyId}, but Crowd:Keys:DataProtection here is {key.Id}. Give every node the same key.");
        }
        var plaintext = AesGcmSeal.Open(key.Key, Convert.FromBase64String(encryptedElement.Value), AssociatedData);
        try
        {
            return XElement.Parse(Encoding.UTF8.GetString(plaintext));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}

public static class DataProtectionSetup
{
    private static readonly XNamespace s_dataProtection = "http://schemas.asp.net/2015/03/dataProtection";

    public static IServiceCollection AddDataProtectionKeyRing(this IServiceCollection services)
    {
        services.AddSingleton(sp => new KeyRingKey(sp.GetRequiredService<KeyFiles>()
            .Load("data-protection.key", sp.GetRequiredService<IOptions<CrowdOptions>>().Value.Keys.DataProtection, "Crowd:Keys:DataProtection")));
        services.AddDataProtection().SetApplicationName("crowd");
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp => new ConfigureOptions<KeyManagementOptions>(o =>
        {
            o.XmlRepository = new PostgresXmlRepository(sp.GetRequiredService<IServiceScopeFactory>());
            o.XmlEncryptor = new KeyRingEncryptor(sp.GetRequiredService<KeyRingKey>());
        }));
        return services;
    }

    /// <summary>
    /// Encrypts, in place and in the data-protection system's own format, the key material of keys stored before keys were
    /// encrypted at rest. They are still needed: they unprotect older cookies and the webhook secrets protected with them.
    /// </summary>
    public static async Task<int> EncryptStoredKeysAsync(CrowdDb db, IXmlEncryptor encryptor, CancellationToken ct)
    {
        var changed = 0;
        foreach (var row in await db.DataProtectionKeys.ToListAsync(ct))
        {
            var element = XElement.Parse(row.Xml);
            var clear = element.Descendants().Where(e => (bool?)e.Attribute(s_dataProtection + "requiresEncryption") == true).ToList();
            foreach (var secret in clear)
            {
                var encrypted = encryptor.Encrypt(new XElement(secret));
                secret.ReplaceWith(new XElement(s_dataProtection + "encryptedSecret",
                    new XAttribute("decryptorType", encrypted.DecryptorType.AssemblyQualifiedName!), encrypted.EncryptedElement));
            }
            if (clear.Count > 0)
            {
                row.Xml = element.ToString(SaveOptions.DisableFormatting);
                changed++;
            }
        }
        await db.SaveChangesAsync(ct);
        return changed;
    }
}

internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<DataProtectionKey> e)
    {
        e.Property(k => k.FriendlyName).HasMaxLength(200);
    }
}
