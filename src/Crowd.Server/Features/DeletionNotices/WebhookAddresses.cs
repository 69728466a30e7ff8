using System.Net;
using System.Net.Sockets;

namespace Crowd.Server.Features.DeletionNotices;

/// <summary>
/// Which addresses a webhook may reach: the public internet only. A webhook is a request the platform makes on a
/// requester's behalf; pointed inside (loopback, private networks, link-local cloud metadata, carrier-grade NAT…) it
/// would let a requester probe and reach what only the platform can. Pure, so that every form is tested without a network.
/// </summary>
public static class WebhookAddresses
{
    // Names that never lead to the public internet, whatever a resolver says: RFC 6761 localhost, mDNS .local, the
    // private-use .internal (cloud metadata lives at metadata.google.internal) and home networks' .home.arpa.
    private static readonly string[] s_internalSuffixes = [".localhost", ".local", ".internal", ".home.arpa"];

    public static bool IsInternalName(string host)
    {
        var name = host.TrimEnd('.').ToLowerInvariant();
        return name is "localhost" || s_internalSuffixes.Any(s => name.EndsWith(s, StringComparison.Ordinal));
    }

    /// <summary>
    /// False for unspecified, loopback, private, carrier-grade NAT, link-local, multicast, broadcast, reserved and
    /// documentation ranges, in IPv4, IPv6, and IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4).
    /// </summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return IsPublic(address.MapToIPv4());
        }
        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => IsPublicV4(address.GetAddressBytes()),
            AddressFamily.InterNetworkV6 => IsPublicV6(address.GetAddressBytes()),
            _ => false,
        };
    }

    private static bool IsPublicV4(ReadOnlySpan<byte> a) => !(
        a[0] == 0 // "this network", including 0.0.0.0
        || a[0] == 10
        || a[0] == 127
        || (a[0] == 100 && (a[1] & 0xC0) == 64) // 100.64.0.0/10, carrier-grade NAT
        || (a[0] == 169 && a[1] == 254) // link-local, where cloud metadata services answer
        || (a[0] == 172 && (a[1] & 0xF0) == 16)
        || (a[0] == 192 && a[1] == 168)
        || (a[0] == 192 && a[1] == 0 && a[2] is 0 or 2) // protocol assignments, documentation
        || (a[0] == 198 && (a[1] & 0xFE) == 18) // benchmarking
        || (a[0] == 198 && a[1] == 51 && a[2] == 100)
        || (a[0] == 203 && a[1] == 0 && a[2] == 113)
        || a[0] >= 224); // multicast, reserved, broadcast

    private static bool IsPublicV6(ReadOnlySpan<byte> a)
    {
        if (a[..12].IndexOfAnyExcept((byte)0) < 0)
        {
            return false; // ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d
        }
        if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xFF && a[3] == 0x9B)
        {
            return IsPublicV4(a[12..]); // 64:ff9b::/96, NAT64 to an IPv4 address
        }
        if (a[0] == 0x20 && a[1] == 0x02)
        {
            return IsPublicV4(a[2..6]); // 2002::/16, 6to4 around an IPv4 address
        }
        return !(
            (a[0] & 0xFE) == 0xFC // fc00::/7, unique local (private)
            || (a[0] == 0xFE && (a[1] & 0xC0) is 0x80 or 0xC0) // fe80::/10 link-local, fec0::/10 site-local
            || a[0] == 0xFF // multicast
            || (a[0] == 0x01 && a[1] == 0x00 && a[2..8].IndexOfAnyExcept((byte)0) < 0) // 100::/64, discard
            || (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0D && a[3] == 0xB8)); // 2001:db8::/32, documentation
    }
}

/// <summary>
/// The network as the webhook sender sees it: how a host name resolves, and which addresses it may reach. Production
/// uses this class as it is; only a test host replaces it (to reach its own loopback listener or to answer names),
/// because no setting exists that could open the platform's inside to webhooks.
/// </summary>
public class WebhookNetwork
{
    public virtual Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => Dns.GetHostAddressesAsync(host, ct);

    public virtual bool Allows(IPAddress address) => WebhookAddresses.IsPublic(address);

    /// <summary>
    /// The addresses a host (a name, or an address in any spelling Uri accepts) stands for, if every one of them may be
    /// reached; otherwise why not.
    /// </summary>
    public async Task<(HostCheck Check, IPAddress[] Addresses)> CheckAsync(string host, CancellationToken ct)
    {
        var bare = host.Trim('[', ']');
        IPAddress[] addresses;
        if (IPAddress.TryParse(bare, out var literal))
        {
            addresses = [literal];
        }
        else if (WebhookAddresses.IsInternalName(bare))
        {
            return (HostCheck.Internal, []);
        }
        else
        {
            try
            {
                addresses = await ResolveAsync(bare, ct);
            }
            catch (SocketException)
            {
                return (HostCheck.NotFound, []);
            }
            if (addresses.Length == 0)
            {
                return (HostCheck.NotFound, []);
            }
        }
        return addresses.All(Allows) ? (HostCheck.Allowed, addresses) : (HostCheck.Internal, []);
    }

    /// <summary>
    /// SocketsHttpHandler's connect step: resolves the host once, refuses it unless every address may be reached, and
    /// connects to those very addresses, so that a name answering differently a moment later (DNS rebinding) changes nothing.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var (check, addresses) = await CheckAsync(context.DnsEndPoint.Host, ct);
        if (check != HostCheck.Allowed)
        {
            throw new WebhookAddressRefusedException(context.DnsEndPoint.Host);
        }
        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }
}

public enum HostCheck
{
    Allowed,
    /// <summary>The host is, or resolves to, at least one address webhooks may not reach.</summary>
    Internal,
    /// <summary>The name does not resolve.</summary>
    NotFound,
}

/// <summary>A webhook host that is, or resolves to, an address webhooks may not reach.</summary>
public sealed class WebhookAddressRefusedException(string host) : IOException($"Webhook host {host} is not on the public internet.");
