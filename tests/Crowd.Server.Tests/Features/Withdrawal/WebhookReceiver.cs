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

    public WebhookReceiver()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = $"http://127.0.0.1:{port}/hooks/crowd/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

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
