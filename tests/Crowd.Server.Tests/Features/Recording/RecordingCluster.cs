using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crowd.Server.Tests.Features.Recording;

/// <summary>
/// Several real server processes on one PostgreSQL database, each an Orleans silo, finding each other through a
/// throw-away Redis under a cluster id of their own (dead silos stay in Redis, so every run starts a fresh cluster).
/// </summary>
public sealed class RecordingCluster : IAsyncDisposable
{
    private readonly TestRedis _redis;
    private readonly List<RecordingNode> _nodes;

    private RecordingCluster(TestRedis redis, string connectionString, string dataDirectory, List<RecordingNode> nodes)
    {
        _redis = redis;
        ConnectionString = connectionString;
        DataDirectory = dataDirectory;
        _nodes = nodes;
    }

    public string ConnectionString { get; }

    public string DataDirectory { get; }

    public RecordingNode this[int index] => _nodes[index];

    public static async Task<RecordingCluster> StartAsync(int nodes)
    {
        var redis = await TestRedis.StartAsync();
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        var dataDirectory = Path.Combine(Path.GetTempPath(), "crowd-cluster-" + Guid.NewGuid().ToString("N")[..12]);
        var clusterId = "test-" + Guid.NewGuid().ToString("N")[..12];
        var masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        // One after the other: two start-ups at once on a busy two-core machine can outlast the start-up wait.
        var started = new List<RecordingNode>();
        var cluster = new RecordingCluster(redis, connectionString, dataDirectory, started);
        try
        {
            for (var i = 0; i < nodes; i++)
            {
                var siloPort = ServerProcess.FreePort();
                var (server, _) = await ServerProcess.StartAsync(new Dictionary<string, string>
                {
                    ["ConnectionStrings__Crowd"] = connectionString,
                    ["Crowd__DataDirectory"] = dataDirectory,
                    ["Crowd__Clips__MasterKey"] = masterKey,
                    ["Crowd__Orleans__Redis"] = redis.Configuration,
                    ["Crowd__Orleans__ClusterId"] = clusterId,
                    ["Crowd__Orleans__AdvertisedAddress"] = "127.0.0.1",
                    ["Crowd__Orleans__SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture),
                    ["Crowd__Recording__CheckpointSeconds"] = "1",
                    ["Crowd__Recording__AudioAheadSeconds"] = "60",
                    ["Crowd__RateLimits__AuthPerMinute"] = "100000",
                    ["Crowd__RateLimits__ApiPerSecond"] = "100000",
                    ["Crowd__Scheduler__Enabled"] = "false",
                    ["Logging__LogLevel__Default"] = "Warning",
                });
                started.Add(new RecordingNode(server, siloPort));
            }
        }
        catch
        {
            await cluster.DisposeAsync(); // the nodes that did start, and Redis, go with the failed start
            throw;
        }
        return cluster;
    }

    public Task<T> ScalarAsync<T>(string sql) => TestPostgres.ScalarAsync<T>(ConnectionString, sql);

    public CrowdDb Db() => new(new DbContextOptionsBuilder<CrowdDb>().UseNpgsql(ConnectionString).Options);

    /// <summary>A published, funded job with its prompts, as a requester leaves it after publishing.</summary>
    public Task<Guid> PublishedJobAsync(int prompts, int takesPerPrompt = 1, int maxTakesPerSpeaker = 200, int targetHours = 100) =>
        RecordingTestData.SeededJobAsync(ConnectionString, prompts, takesPerPrompt, maxTakesPerSpeaker, targetHours);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.Server.DisposeAsync();
        }
        await _redis.DisposeAsync();
        NpgsqlConnection.ClearPool(new NpgsqlConnection(ConnectionString));
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}

public sealed record RecordingNode(ServerProcess Server, int SiloPort)
{
    public Uri HubUrl => new($"ws://{Server.Address.Authority}/hubs/recording");

    /// <summary>How the node names itself in worker_sessions.node_id (its silo address: ip:port:generation).</summary>
    public string SiloMarker => $"127.0.0.1:{SiloPort.ToString(CultureInfo.InvariantCulture)}:";
}

/// <summary>A contributor who signed up through the public API and consented to a job; the cookie works on every node.</summary>
public sealed class ClusterContributor
{
    private readonly CookieContainer _cookies = new();

    public string Email { get; } = TestAccounts.NewEmail(Roles.Contributor);

    public static async Task<ClusterContributor> SignUpAsync(RecordingNode node, Guid jobId)
    {
        var contributor = new ClusterContributor();
        using var http = contributor.Http(node);
        (await http.PostAsJsonAsync("/api/accounts/signup", new SignUpRequest(contributor.Email, TestAccounts.Password, "Wang Fang",
            new DateOnly(1995, 3, 2), Roles.Contributor))).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await http.PostAsJsonAsync("/api/accounts/signin", new SignInRequest(contributor.Email, TestAccounts.Password))).StatusCode.ShouldBe(HttpStatusCode.OK);
        var screen = await Consent.ConsentTestData.ScreenAsync(http, jobId);
        (await Consent.ConsentTestData.ConsentAsync(http, jobId, screen, "Wang Fang")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        return contributor;
    }

    public HttpClient Http(RecordingNode node) =>
        new(new HttpClientHandler { CookieContainer = _cookies, UseCookies = true }) { BaseAddress = node.Server.Address };

    public Task<SignalRJsonClient> ConnectAsync(RecordingNode node) =>
        SignalRJsonClient.ConnectAsync(node.HubUrl, _cookies.GetCookieHeader(node.Server.Address));
}
