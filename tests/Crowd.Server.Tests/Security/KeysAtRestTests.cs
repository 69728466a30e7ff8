using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Xml.Linq;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Infrastructure.Security;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crowd.Server.Tests.Security;

/// <summary>Where the platform's keys live: never in the clear beside what they protect.</summary>
public sealed class KeysAtRestTests
{
    [Fact]
    public async Task StoredDataProtectionKeysHoldNoKeyMaterialInTheClear()
    {
        await using var app = new KeysApp(NewKey());
        await app.InitializeAsync();
        await SignInCookieAsync(app);

        var stored = await StoredKeyRingAsync(app.ConnectionString);

        stored.ShouldNotBeEmpty();
        var decryptor = new KeyRingDecryptor(app.Services);
        foreach (var xml in stored)
        {
            var element = XElement.Parse(xml);
            element.Descendants().Where(e => e.Name.LocalName == "masterKey").ShouldBeEmpty(xml);
            var encrypted = element.Descendants().Single(e => e.Name.LocalName == "crowdEncryptedKey");
            var secret = decryptor.Decrypt(encrypted).Descendants().Single(e => e.Name.LocalName == "value").Value;
            secret.Length.ShouldBeGreaterThan(40, "the decrypted key holds the key material");
            xml.ShouldNotContain(secret);
        }
    }

    [Fact]
    public async Task AServerWithAnotherKeyRingKeyCannotReadTheCookiesOfTheFirst()
    {
        var key = NewKey();
        await using var first = new KeysApp(key);
        await first.InitializeAsync();
        var cookie = await SignInCookieAsync(first);
        await using var wrongKey = new KeysApp(NewKey(), first.ConnectionString);
        await wrongKey.InitializeAsync();
        await using var sameKey = new KeysApp(key, first.ConnectionString);
        await sameKey.InitializeAsync();

        (await MeAsync(wrongKey, cookie)).ShouldBe(HttpStatusCode.Unauthorized);
        (await MeAsync(sameKey, cookie)).ShouldBe(HttpStatusCode.OK, "a second node with the platform's key reads the same cookie");
    }

    [Fact]
    public async Task KeysStoredInTheClearByEarlierVersionsAreEncryptedAtStartAndStillReadTheirCookies()
    {
        var key = NewKey();
        await using var first = new KeysApp(key);
        await first.InitializeAsync();
        var cookie = await SignInCookieAsync(first);
        await DecryptStoredKeyRingAsync(first);
        (await StoredKeyRingAsync(first.ConnectionString)).ShouldContain(xml => xml.Contains("masterKey", StringComparison.Ordinal));

        await using var next = new KeysApp(key, first.ConnectionString);
        await next.InitializeAsync();

        (await MeAsync(next, cookie)).ShouldBe(HttpStatusCode.OK);
        (await StoredKeyRingAsync(first.ConnectionString)).ShouldAllBe(xml => !xml.Contains("masterKey", StringComparison.Ordinal));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task GeneratedKeysLiveInAnOwnerOnlyFolderApartFromTheClips()
    {
        await using var app = new KeysApp(dataProtectionKey: null);
        await app.InitializeAsync();
        await SignInCookieAsync(app);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ClipVault>().StoreAsync(Guid.NewGuid(), [1, 2, 3], CancellationToken.None);
        }

        var keys = Path.Combine(app.DataDirectory, "keys");
        File.GetUnixFileMode(keys).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var name in new[] { "clip-master.key", "data-protection.key" })
        {
            File.GetUnixFileMode(Path.Combine(keys, name)).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite, name);
        }
        Directory.EnumerateFiles(Path.Combine(app.DataDirectory, "clips"), "*.key", SearchOption.AllDirectories).ShouldBeEmpty();
        File.Exists(Path.Combine(app.DataDirectory, "clip-master.key")).ShouldBeFalse();
    }

    [Fact]
    public async Task AClipMasterKeyWhereEarlierVersionsKeptItMovesIntoTheKeysFolder()
    {
        var master = NewKey();
        await using var app = new KeysApp(dataProtectionKey: null);
        Directory.CreateDirectory(app.DataDirectory);
        await File.WriteAllTextAsync(Path.Combine(app.DataDirectory, "clip-master.key"), master);
        await app.InitializeAsync();

        var used = app.Services.GetRequiredService<ClipMasterKey>().Key.ToArray();

        Convert.ToBase64String(used).ShouldBe(master, "clips stored before the move stay readable");
        File.Exists(Path.Combine(app.DataDirectory, "clip-master.key")).ShouldBeFalse();
        (await File.ReadAllTextAsync(Path.Combine(app.DataDirectory, "keys", "clip-master.key"))).ShouldBe(master);
    }

    [Theory]
    [InlineData("clips/keys", "clips")]
    [InlineData(".", "clips")]
    [InlineData("secrets", "secrets/clips")]
    public async Task AServerWhoseKeysAndClipsFoldersOverlapRefusesToStart(string keys, string clips)
    {
        await using var app = new KeysApp(dataProtectionKey: null, keysDirectory: keys, clipsDirectory: clips);
        await app.InitializeAsync();

        var refused = Should.Throw<OptionsValidationException>(() => app.Services.GetRequiredService<IOptions<Crowd.Server.Infrastructure.CrowdOptions>>().Value);

        refused.Message.ShouldContain("Keep the keys apart from the clips they protect");
    }

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static async Task<string> SignInCookieAsync(CrowdApp app)
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        var response = await client.PostAsJsonAsync("/api/accounts/signin", new SignInRequest(user.Email, TestAccounts.Password));
        response.EnsureSuccessStatusCode();
        return response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Single(c => c.StartsWith("crowd.auth=", StringComparison.Ordinal));
    }

    private static async Task<HttpStatusCode> MeAsync(CrowdApp app, string cookie)
    {
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/accounts/me");
        request.Headers.Add("Cookie", cookie);
        return (await client.SendAsync(request)).StatusCode;
    }

    private static async Task<List<string>> StoredKeyRingAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT xml FROM data_protection_keys", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }
        return rows;
    }

    /// <summary>Rewrites the stored keys as versions before encryption at rest kept them: key material in the clear.</summary>
    private static async Task DecryptStoredKeyRingAsync(CrowdApp app)
    {
        var decryptor = new KeyRingDecryptor(app.Services);
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        var rows = new List<(int Id, string Xml)>();
        await using (var read = new NpgsqlCommand("SELECT id, xml FROM data_protection_keys", connection))
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetInt32(0), reader.GetString(1)));
            }
        }
        foreach (var (id, xml) in rows)
        {
            var element = XElement.Parse(xml);
            foreach (var secret in element.Descendants().Where(e => e.Name.LocalName == "encryptedSecret").ToList())
            {
                secret.ReplaceWith(decryptor.Decrypt(secret.Elements().Single()));
            }
            await using var write = new NpgsqlCommand("UPDATE data_protection_keys SET xml = @xml WHERE id = @id", connection);
            write.Parameters.AddWithValue("xml", element.ToString(SaveOptions.DisableFormatting));
            write.Parameters.AddWithValue("id", id);
            await write.ExecuteNonQueryAsync();
        }
    }

    private sealed class KeysApp : CrowdApp
    {
        private readonly string? _dataProtectionKey;
        private readonly string? _keysDirectory;
        private readonly string? _clipsDirectory;

        public KeysApp(string? dataProtectionKey, string? connectionString = null, string? keysDirectory = null, string? clipsDirectory = null)
            : base(connectionString ?? "")
        {
            _dataProtectionKey = dataProtectionKey;
            _keysDirectory = keysDirectory;
            _clipsDirectory = clipsDirectory;
        }

        public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "crowd-keys-" + Guid.NewGuid().ToString("N")[..12]);

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Crowd:DataDirectory", DataDirectory);
            if (_dataProtectionKey is not null)
            {
                builder.UseSetting("Crowd:Keys:DataProtection", _dataProtectionKey);
            }
            if (_keysDirectory is not null)
            {
                builder.UseSetting("Crowd:Keys:Directory", _keysDirectory);
            }
            if (_clipsDirectory is not null)
            {
                builder.UseSetting("Crowd:Clips:Directory", _clipsDirectory);
            }
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            if (Directory.Exists(DataDirectory))
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
        }
    }
}
