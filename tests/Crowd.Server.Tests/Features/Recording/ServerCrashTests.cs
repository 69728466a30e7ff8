using System.Diagnostics;
using System.Security.Cryptography;
using Crowd.Server.Tests.Infrastructure;
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
        var speech = await TestAudio.SpeechSamplesAsync();
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Crowd"] = connectionString,
            ["Crowd__DataDirectory"] = dataDirectory,
            ["Crowd__Clips__MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Crowd__Recording__CheckpointSeconds"] = "1",
            ["Crowd__Recording__AudioAheadSeconds"] = "60",
            ["Crowd__RateLimits__AuthPerMinute"] = "1000",
            ["Crowd__Scheduler__Enabled"] = "false",
            ["Logging__LogLevel__Default"] = "Warning",
        };

        long checkpointed;
        Guid sessionId;
        Guid taskId;
        ClusterContributor contributor;
        await using (var process = (await ServerProcess.StartAsync(environment)).Server)
        {
            var server = new RecordingNode(process, SiloPort: 0); // alone, Orleans clusters on loopback as the embedded default does
            contributor = await ClusterContributor.SignUpAsync(server, jobId);
            var client = await contributor.ConnectAsync(server);
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
                checkpointed = await TestPostgres.ScalarAsync<long>(connectionString, $"SELECT active_ms FROM worker_sessions WHERE id = '{sessionId}'");
            }
            checkpointed.ShouldBeGreaterThanOrEqualTo(2_000);
            output.WriteLine($"Killing the server after {seq} chunks; {checkpointed} ms of active time checkpointed");
            process.Kill();
            client.Abort();
        }

        (await TestPostgres.ScalarAsync<long>(connectionString, "SELECT count(*) FROM clips")).ShouldBe(0);
        Directory.Exists(Path.Combine(dataDirectory, "clips")).ShouldBeFalse("no blob of the interrupted take was written");

        await using (var process = (await ServerProcess.StartAsync(environment)).Server)
        {
            var server = new RecordingNode(process, SiloPort: 0);
            await using var client = await contributor.ConnectAsync(server);

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

        (await TestPostgres.ScalarAsync<long>(connectionString, "SELECT count(*) FROM clips")).ShouldBe(1);
        (await TestPostgres.ScalarAsync<long>(connectionString, $"SELECT active_ms FROM worker_sessions WHERE id = '{sessionId}'"))
            .ShouldBeGreaterThanOrEqualTo(checkpointed);
        Directory.Delete(dataDirectory, recursive: true);
    }
}
