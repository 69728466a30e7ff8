using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace Crowd.Server.Tests.Infrastructure;

/// <summary>The tests' own SignalR client reads what a real server may send, so a hub test fails only for the hub's reasons.</summary>
public sealed class SignalRJsonClientTests
{
    [Fact]
    public async Task AFirstMessageSentInTheSameFrameAsTheHandshakeReplyIsNotLost()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var accepted = await listener.AcceptTcpClientAsync();
        using var server = WebSocket.CreateFromStream(accepted.GetStream(), isServer: true, subProtocol: null, Timeout.InfiniteTimeSpan);
        var serverSide = Task.Run(async () =>
        {
            var buffer = new byte[1024];
            await server.ReceiveAsync(buffer, CancellationToken.None); // the handshake request
            var replyAndGreeting = "{}\u001e" + """{"type":1,"target":"frame","arguments":[{"unread":3}]}""" + "\u001e";
            await server.SendAsync(Encoding.UTF8.GetBytes(replyAndGreeting), WebSocketMessageType.Text, true, CancellationToken.None);
        });

        await using var client = await SignalRJsonClient.ConnectAsync(
            WebSocket.CreateFromStream(tcp.GetStream(), isServer: false, subProtocol: null, Timeout.InfiniteTimeSpan));
        await serverSide;

        (await client.NextAsync("frame", TimeSpan.FromSeconds(5)))[0]!["unread"]!.GetValue<int>().ShouldBe(3);
    }
}
