using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Crowd.Server.Tests.Infrastructure;

/// <summary>
/// A throw-away redis-server (Debian's, installed by scripts/setup --tests) on a free loopback port, keeping nothing
/// on disk; Orleans silos of a multi-node test or benchmark find each other through it. Stopped when disposed.
/// </summary>
public sealed class TestRedis : IAsyncDisposable
{
    private readonly Process _process;

    private TestRedis(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string the server reads from Crowd__Orleans__Redis.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public static async Task<TestRedis> StartAsync()
    {
        var port = ServerProcess.FreePort();
        var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes" })
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start (scripts/setup --tests installs it).");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var redis = new TestRedis(process, port);
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {process.ExitCode}");
            }
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return redis;
            }
            catch (SocketException)
            {
                await Task.Delay(50); // not listening yet
            }
        }
        await redis.DisposeAsync();
        throw new TimeoutException("redis-server did not listen within 20 s");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
