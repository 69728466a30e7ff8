using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Crowd.Server.Tests.Infrastructure;

/// <summary>
/// A real S3-compatible server for the tests: npm's s3rver (installed by scripts/setup through package.json) under Node,
/// on a free loopback port, with its data in a folder of its own. Stopped and removed on dispose.
/// </summary>
public sealed class S3rver : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private readonly Process _process;

    private S3rver(Process process, int port, string directory)
    {
        _process = process;
        Endpoint = new Uri($"http://127.0.0.1:{port}");
        Directory = directory;
    }

    public Uri Endpoint { get; }

    public string Directory { get; }

    public static async Task<S3rver> StartAsync()
    {
        var script = Path.Combine(ServerProcess.RepositoryRoot, "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"{script} is missing: run scripts/setup (npm ci installs s3rver).");
        }
        var directory = Path.Combine(Path.GetTempPath(), "crowd-s3-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var port = ServerProcess.FreePort();
        var start = new ProcessStartInfo("node", [script, "-d", directory, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new S3rver(process, port, directory);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return server;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
            {
                await Task.Delay(100); // not listening yet
            }
            catch (SocketException)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"s3rver did not listen on port {port}.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
