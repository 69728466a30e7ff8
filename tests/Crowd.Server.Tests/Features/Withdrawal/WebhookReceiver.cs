using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Crowd.Server.Tests.Features.Withdrawal;

public sealed record ReceivedWebhook(string Signature, string EventId, byte[] Body);

/// <summary>A local HTTP endpoint standing in for a requester's webhook: records what it receives, answers the statuses it is told to.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly ConcurrentQueue<int> _answers = new();

    /// <param name="host">The host name the webhook is addressed by; any name is answered on the loopback port.</param>
    public WebhookReceiver(string host = "127.0.0.1")
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = $"http://{host}:{Port}/hooks/crowd/";
        _listener.Prefixes.Add(host == "127.0.0.1" ? Url : $"http://*:{Port}/hooks/crowd/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Url { get; }

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    /// <summary>The next requests get these statuses, then 200.</summary>
    public void AnswerNext(params int[] statuses)
    {
        foreach (var status in statuses)
        {
            _answers.Enqueue(status);
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            Received.Enqueue(new ReceivedWebhook(context.Request.Headers["Crowd-Signature"] ?? "", context.Request.Headers["Crowd-Event-Id"] ?? "", body.ToArray()));
            context.Response.StatusCode = _answers.TryDequeue(out var status) ? status : 200;
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
