using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Crowd.Server.Tests.Infrastructure;

/// <summary>
/// A minimal SignalR client speaking the JSON hub protocol over a raw WebSocket (the .NET SignalR client is not
/// available here): handshake, invocations, client-to-server streams, and the server's messages.
/// </summary>
public sealed class SignalRJsonClient : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private readonly WebSocket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonNode?>> _pending = new();
    private readonly Channel<(string Target, JsonArray Arguments)> _messages = Channel.CreateUnbounded<(string, JsonArray)>();
    private readonly CancellationTokenSource _stop = new();
    private Task _receiving = Task.CompletedTask;
    private int _nextId;

    private SignalRJsonClient(WebSocket socket) => _socket = socket;

    /// <summary>Why the server closed the connection, when it said.</summary>
    public string? CloseError { get; private set; }

    public bool Closed { get; private set; }

    public static async Task<SignalRJsonClient> ConnectAsync(WebSocket socket)
    {
        var client = new SignalRJsonClient(socket);
        await client.SendRawAsync("""{"protocol":"json","version":1}""");
        var handshake = await client.ReceiveOneAsync(CancellationToken.None)
            ?? throw new InvalidOperationException("The server closed the connection during the handshake.");
        // The server may send its first message (a hub's greeting in OnConnectedAsync) in the same frame as the reply.
        var parts = handshake.Split(RecordSeparator, 2);
        var reply = JsonNode.Parse(parts[0]);
        if (reply?["error"] is { } error)
        {
            throw new InvalidOperationException("Handshake refused: " + error);
        }
        client.HandleAll(parts.ElementAtOrDefault(1) ?? "");
        client._receiving = Task.Run(client.ReceiveLoopAsync);
        return client;
    }

    public static async Task<SignalRJsonClient> ConnectAsync(Uri hubUrl, string cookie)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Cookie", cookie);
        await socket.ConnectAsync(hubUrl, CancellationToken.None);
        return await ConnectAsync(socket);
    }

    public async Task<JsonNode?> InvokeAsync(string target, params object?[] arguments)
    {
        var (id, completion) = NewInvocation();
        await SendAsync(new JsonObject
        {
            ["type"] = 1,
            ["invocationId"] = id,
            ["target"] = target,
            ["arguments"] = JsonSerializer.SerializeToNode(arguments, s_json),
        });
        return await completion;
    }

    public async Task<T> InvokeAsync<T>(string target, params object?[] arguments) =>
        (await InvokeAsync(target, arguments)).Deserialize<T>(s_json)!;

    /// <summary>Starts an invocation that receives a client-to-server stream; returns the stream to write to and the result.</summary>
    public async Task<(UploadChannel Stream, Task<JsonNode?> Result)> InvokeWithStreamAsync(string target, params object?[] arguments)
    {
        var (id, completion) = NewInvocation();
        var streamId = "s" + id;
        await SendAsync(new JsonObject
        {
            ["type"] = 1,
            ["invocationId"] = id,
            ["target"] = target,
            ["arguments"] = JsonSerializer.SerializeToNode(arguments, s_json),
            ["streamIds"] = new JsonArray(streamId),
        });
        return (new UploadChannel(this, streamId), completion);
    }

    /// <summary>The next message the server sent with the given target (e.g. "frame"), skipping others.</summary>
    public async Task<JsonArray> NextAsync(string target, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var (t, arguments) = await _messages.Reader.ReadAsync(cts.Token);
            if (t == target)
            {
                return arguments;
            }
        }
    }

    /// <summary>Every message with the given target received so far.</summary>
    public List<JsonArray> Drain(string target)
    {
        var list = new List<JsonArray>();
        while (_messages.Reader.TryRead(out var message))
        {
            if (message.Target == target)
            {
                list.Add(message.Arguments);
            }
        }
        return list;
    }

    /// <summary>Drops the connection without a goodbye, as a network failure would.</summary>
    public void Abort()
    {
        _socket.Abort();
        _stop.Cancel();
    }

    private (string, Task<JsonNode?>) NewInvocation()
    {
        var id = Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var completion = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = completion;
        return (id, completion.Task);
    }

    internal Task SendAsync(JsonObject message) => SendRawAsync(message.ToJsonString());

    /// <summary>Sends text as it is: for tests of what the server does with broken messages.</summary>
    public async Task SendRawAsync(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json + RecordSeparator);
        await _sendLock.WaitAsync();
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task<string?> ReceiveOneAsync(CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(message.ToArray());
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var text = await ReceiveOneAsync(_stop.Token);
                if (text is null)
                {
                    break;
                }
                HandleAll(text);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // the connection went away
        }
        Closed = true;
        foreach (var pending in _pending.Values)
        {
            pending.TrySetException(new InvalidOperationException("Connection closed" + (CloseError is null ? "" : ": " + CloseError)));
        }
        _messages.Writer.TryComplete();
    }

    /// <summary>Handles each message of a frame: the server may put several in one, each ended by the record separator.</summary>
    private void HandleAll(string text)
    {
        foreach (var part in text.Split(RecordSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            Handle(JsonNode.Parse(part)!);
        }
    }

    private void Handle(JsonNode message)
    {
        switch ((int)message["type"]!)
        {
            case 1:
                _messages.Writer.TryWrite(((string)message["target"]!, (JsonArray)message["arguments"]!.DeepClone()));
                break;
            case 3:
                if (_pending.TryRemove((string)message["invocationId"]!, out var completion))
                {
                    if (message["error"] is { } error)
                    {
                        completion.TrySetException(new HubErrorException((string)error!));
                    }
                    else
                    {
                        completion.TrySetResult(message["result"]?.DeepClone());
                    }
                }
                break;
            case 7:
                CloseError = (string?)message["error"];
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // already gone
        }
        _stop.Cancel();
        await _receiving;
        _socket.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
    }

    public sealed class UploadChannel(SignalRJsonClient client, string streamId)
    {
        public Task WriteAsync(object item) => client.SendAsync(new JsonObject
        {
            ["type"] = 2,
            ["invocationId"] = streamId,
            ["item"] = JsonSerializer.SerializeToNode(item, s_json),
        });

        public Task CompleteAsync() => client.SendAsync(new JsonObject { ["type"] = 3, ["invocationId"] = streamId });
    }
}

/// <summary>An invocation the hub answered with an error; Message is what the contributor would read.</summary>
public sealed class HubErrorException(string message) : Exception(message);
