using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace Crowd.Server.Tests.Features.Recording;

/// <summary>The server as a real process that the test kills with SIGKILL in the middle of a take.</summary>
public sealed class ServerCrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AfterTheServerIsKilledMidTakeTheSessionResumesWithItsTimeAndNoPartialClip()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        var dataDirectory = Path.Combine(Path.GetTempPath(), "crowd-crash-" + Guid.NewGuid().ToString("N")[..12]);
        var jobId = await RecordingTestData.SeededJobAsync(connectionString, prompts: 2);
        var email = TestAccounts.NewEmail(Roles.Contributor);
        var speech = await TestAudio.SpeechSamplesAsync();

        long checkpointed;
        Guid sessionId;
        Guid taskId;
        await using (var server = await ServerProcess.StartAsync(connectionString, dataDirectory, output))
        {
            var http = server.Client();
            (await http.PostAsJsonAsync("/api/accounts/signup", new SignUpRequest(email, TestAccounts.Password, "Wang Fang",
                new DateOnly(1995, 3, 2), Roles.Contributor))).StatusCode.ShouldBe(HttpStatusCode.Accepted);
            (await http.PostAsJsonAsync("/api/accounts/signin", new SignInRequest(email, TestAccounts.Password))).StatusCode.ShouldBe(HttpStatusCode.OK);
            var consent = await Consent.ConsentTestData.ScreenAsync(http, jobId);
            (await Consent.ConsentTestData.ConsentAsync(http, jobId, consent, "Wang Fang")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

            var client = await SignalRJsonClient.ConnectAsync(server.HubUrl, server.Cookie(http));
            await client.InvokeAsync("Join", jobId, false);
            var view = await client.InvokeAsync("NextPrompt");
            sessionId = (Guid)view!["sessionId"]!;
            taskId = (Guid)view["prompt"]!["taskId"]!;
            var takeId = (Guid)(await client.InvokeAsync("StartTake"))!["takeId"]!;
            var (stream, _) = await client.InvokeWithStreamAsync("Record", takeId);
            var seq = 0;
            var paced = Stopwatch.StartNew();
            checkpointed = 0;
            // Speak in real time until a checkpoint has written at least two seconds of work.
            while (checkpointed < 2_000 && paced.Elapsed < TimeSpan.FromSeconds(20))
            {
                await stream.WriteAsync(RecordingHubTests.Chunk(seq, speech.AsSpan(seq % 50 * 1600, 1600)));
                seq++;
                await Task.Delay(TimeSpan.FromMilliseconds(100 * seq) - paced.Elapsed is { Ticks: > 0 } wait ? wait : TimeSpan.Zero);
                checkpointed = await ScalarAsync<long>(connectionString, $"SELECT active_ms FROM worker_sessions WHERE id = '{sessionId}'");
            }
            checkpointed.ShouldBeGreaterThanOrEqualTo(2_000);
            output.WriteLine($"Killing the server after {seq} chunks; {checkpointed} ms of active time checkpointed");
            server.Kill();
            client.Abort();
        }

        (await ScalarAsync<long>(connectionString, "SELECT count(*) FROM clips")).ShouldBe(0);
        Directory.Exists(Path.Combine(dataDirectory, "clips")).ShouldBeFalse("no blob of the interrupted take was written");

        await using (var server = await ServerProcess.StartAsync(connectionString, dataDirectory, output))
        {
            var http = server.Client();
            (await http.PostAsJsonAsync("/api/accounts/signin", new SignInRequest(email, TestAccounts.Password))).EnsureSuccessStatusCode();
            await using var client = await SignalRJsonClient.ConnectAsync(server.HubUrl, server.Cookie(http));

            var view = await client.InvokeAsync("Join", jobId, false);

            ((Guid)view!["sessionId"]!).ShouldBe(sessionId);
            ((long)view["activeMs"]!).ShouldBeGreaterThanOrEqualTo(checkpointed);
            view["resumableTakeId"].ShouldBeNull("the take died with the node and must be recorded again");
            ((Guid)view["prompt"]!["taskId"]!).ShouldBe(taskId, "the session still holds its prompt");

            var takeId = (Guid)(await client.InvokeAsync("StartTake"))!["takeId"]!;
            var (stream, result) = await client.InvokeWithStreamAsync("Record", takeId);
            for (var seq = 0; seq * 1600 < speech.Length; seq++)
            {
                await stream.WriteAsync(RecordingHubTests.Chunk(seq, speech.AsSpan(seq * 1600, Math.Min(1600, speech.Length - (seq * 1600)))));
                await Task.Delay(50); // twice real time, as a browser catching up would send
            }
            await stream.CompleteAsync();
            ((bool)(await result)!["passed"]!).ShouldBeTrue();
            await client.InvokeAsync("Submit", takeId, null);
        }

        (await ScalarAsync<long>(connectionString, "SELECT count(*) FROM clips")).ShouldBe(1);
        (await ScalarAsync<long>(connectionString, $"SELECT active_ms FROM worker_sessions WHERE id = '{sessionId}'")).ShouldBeGreaterThanOrEqualTo(checkpointed);
        Directory.Delete(dataDirectory, recursive: true);
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private sealed class ServerProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly HttpClientHandler _handler = new() { UseCookies = true, CookieContainer = new CookieContainer() };

        private ServerProcess(Process process, int port)
        {
            _process = process;
            BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        }

        public Uri BaseAddress { get; }

        public Uri HubUrl => new($"ws://{BaseAddress.Authority}/hubs/recording");

        public HttpClient Client() => new(_handler, disposeHandler: false) { BaseAddress = BaseAddress };

        public string Cookie(HttpClient _) => _handler.CookieContainer.GetCookieHeader(BaseAddress);

        public static async Task<ServerProcess> StartAsync(string connectionString, string dataDirectory, ITestOutputHelper output)
        {
            var root = CrowdDatabase.RepositoryRoot(AppContext.BaseDirectory);
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name; // bin/<configuration>/net10.0
            var project = Path.Combine(root, "src", "Crowd.Server");
            var dll = Path.Combine(project, "bin", configuration, "net10.0", "Crowd.Server.dll");
            File.Exists(dll).ShouldBeTrue($"{dll} is built with the tests");
            var port = FreePort();
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = project, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(dll);
            start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
            start.Environment["ConnectionStrings__Crowd"] = connectionString;
            start.Environment["Crowd__DataDirectory"] = dataDirectory;
            start.Environment["Crowd__Recording__CheckpointSeconds"] = "1";
            start.Environment["Crowd__Recording__AudioAheadSeconds"] = "60";
            start.Environment["Crowd__RateLimits__AuthPerMinute"] = "1000";
            start.Environment["Logging__Console__FormatterName"] = "simple";
            start.Environment["Logging__LogLevel__Default"] = "Warning";
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, e) => Echo(output, e.Data);
            process.ErrorDataReceived += (_, e) => Echo(output, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new ServerProcess(process, port);
            try
            {
                await WaitForHealthAsync(server);
                return server;
            }
            catch
            {
                await server.DisposeAsync(); // a server that did not start is not left running
                throw;
            }
        }

        /// <summary>The server's lines in the test's output, as long as the test is running; a server still writing after it ended is not the test's.</summary>
        private static void Echo(ITestOutputHelper output, string? line)
        {
            if (line is null)
            {
                return;
            }
            try
            {
                output.WriteLine("server: " + line);
            }
            catch (InvalidOperationException)
            {
                // the test has ended
            }
        }

        private static async Task WaitForHealthAsync(ServerProcess server)
        {
            var process = server._process;
            using var health = new HttpClient { BaseAddress = server.BaseAddress };
            var waited = Stopwatch.StartNew();
            while (true)
            {
                process.HasExited.ShouldBeFalse("the server process exited during start-up");
                try
                {
                    if ((await health.GetAsync("/health")).IsSuccessStatusCode)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // not listening yet
                }
                waited.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(90), "the server answers /health within the start-up wait of the other server-process tests");
                await Task.Delay(100);
            }
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        /// <summary>SIGKILL: no shutdown hooks, no final checkpoint.</summary>
        public void Kill() => _process.Kill(entireProcessTree: true);

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            await _process.WaitForExitAsync();
            _process.Dispose();
            _handler.Dispose();
        }
    }
}
