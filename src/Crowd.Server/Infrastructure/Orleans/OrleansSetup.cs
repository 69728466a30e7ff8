using System.Net;
using System.Net.Sockets;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;

namespace Crowd.Server.Infrastructure.Orleans;

/// <summary>
/// Every node is both a web node and an Orleans silo. With no Redis configured it is a cluster of one on loopback;
/// with <c>Crowd__Orleans__Redis</c>, nodes sharing a cluster id find each other there. Grain state lives in the
/// project's own tables, so no Orleans storage provider is configured.
/// </summary>
public static class OrleansSetup
{
    public const string ServiceId = "crowd";

    public static WebApplicationBuilder AddOrleans(this WebApplicationBuilder builder)
    {
        // Read before the host exists, because the silo's clustering is chosen while the host is built.
        var settings = builder.CrowdOptionsBeforeStart().Orleans;
        // Orleans' own loops (messaging timeouts, membership probes, directory upkeep) keep real time even where the
        // application runs on a test clock.
        foreach (var key in new[] { TimeProviderNames.Messaging, TimeProviderNames.SystemTimers, TimeProviderNames.Membership })
        {
            builder.Services.AddKeyedSingleton(key, TimeProvider.System);
        }
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = ServiceId;
            });
            // Fast failure detection: a contributor whose node died reaches their session on another node about a
            // second later, instead of the defaults' 5–7 s.
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumProbedSilos = 3;
                o.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(10);
            });
            var siloPort = settings.SiloPort > 0 ? settings.SiloPort : FreePort();
            if (settings.Kubernetes)
            {
                // Silo name, address and cluster id come from the pod; the pod's IP is advertised.
                silo.UseKubernetesHosting();
            }
            if (string.IsNullOrWhiteSpace(settings.Redis))
            {
                silo.UseLocalhostClustering(siloPort: siloPort, gatewayPort: 0, serviceId: ServiceId, clusterId: settings.ClusterId);
                return;
            }
            silo.UseRedisClustering(settings.Redis);
            if (!settings.Kubernetes)
            {
                var advertised = string.IsNullOrWhiteSpace(settings.AdvertisedAddress) ? FirstAddress() : IPAddress.Parse(settings.AdvertisedAddress);
                silo.ConfigureEndpoints(advertised, siloPort, gatewayPort: 0, listenOnAnyHostAddress: true);
            }
        });
        return builder;
    }

    private static IPAddress FirstAddress() =>
        Dns.GetHostAddresses(Dns.GetHostName()).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
        ?? IPAddress.Loopback;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
