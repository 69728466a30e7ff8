using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Crowd.Server.Tests.Infrastructure;

/// <summary>
/// The built server run as a real child process on a free port, for what an in-process host cannot show:
/// the embedded database's life across restarts, crashes, several nodes, and the recording load benchmark (which
/// compiles this file too).
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    // A cold start on a machine busy with the rest of the suite has taken over 90 s (45 s of it before the silo started);
    // the tests that measure start-up print the time instead of bounding it.
    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(180);

    private readonly Process _process;
    private readonly System.Text.StringBuilder _output = new();

    private ServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The last <paramref name="lines"/> lines the server wrote.</summary>
    public string Tail(int lines)
    {
        var all = Output.Split('\n');
        return string.Join('\n', all[Math.Max(0, all.Length - lines - 1)..]);
    }

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>Starts the server and waits until /health answers 200.</summary>
    public static async Task<(ServerProcess Server, TimeSpan StartTime)> StartAsync(IDictionary<string, string> environment)
    {
        // A port found free can be taken by another connection before the server binds it (its web port here, its silo port
        // inside it); only that failure is tried again, on new ports.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnFreePortAsync(environment);
            }
            catch (InvalidOperationException e) when (attempt < 3 && e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
            }
        }
    }

    private static async Task<(ServerProcess Server, TimeSpan StartTime)> StartOnFreePortAsync(IDictionary<string, string> environment)
    {
        var port = FreePort();
        var address = new Uri($"http://127.0.0.1:{port}");
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            ? "Release" : "Debug";
        var projectDirectory = Path.Combine(RepositoryRoot, "src", "Crowd.Server");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = projectDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(projectDirectory, "bin", configuration, "net10.0", "Crowd.Server.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(address.ToString());
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        // Production refuses to start without the address people reach it at.
        start.Environment["Crowd__PublicUrl"] = address.ToString();
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var stopwatch = Stopwatch.StartNew();
        var process = Process.Start(start)!;
        var server = new ServerProcess(process, address);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (stopwatch.Elapsed < s_startDeadline)
        {
            if (process.HasExited)
            {
                // The end of the output, where the reason is, first: a failure summary keeps only a message's first lines.
                throw new InvalidOperationException($"The server exited with {process.ExitCode}. Its last lines:\n{server.Tail(40)}\nAll of its output:\n{server.Output}");
            }
            try
            {
                if ((await http.GetAsync(new Uri(address, "/health"))).StatusCode == HttpStatusCode.OK)
                {
                    return (server, stopwatch.Elapsed);
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100); // not answering yet
        }
        await server.DisposeAsync();
        throw new TimeoutException($"The server did not answer /health within {s_startDeadline.TotalSeconds} s. Its last lines:\n{server.Tail(40)}\nAll of its output:\n{server.Output}");
    }

    /// <summary>Asks the server to stop as an operator would (SIGTERM) and waits for it to finish.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(timeout.Token);
    }

    public int ProcessId => _process.Id;

    /// <summary>The processor time the server has used so far, for the load benchmark's CPU figures.</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    public long RssMb()
    {
        _process.Refresh();
        return _process.WorkingSet64 / (1024 * 1024);
    }

    /// <summary>Ends the process at once, as a crash would: no shutdown code runs.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Crowd.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Crowd.sln not found above " + AppContext.BaseDirectory);
    }
}
