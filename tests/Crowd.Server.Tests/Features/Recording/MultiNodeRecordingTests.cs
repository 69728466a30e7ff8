using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Crowd.Server.Tests.Features.Recording;

/// <summary>Two real server processes, one PostgreSQL, one Redis: the session grain is reached from any node and survives a node's death.</summary>
public sealed class MultiNodeRecordingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AContributorConnectedToOneNodeRecordsThroughTheirSessionOnTheOtherAndTheClipLandsOnce()
    {
        await using var cluster = await RecordingCluster.StartAsync(2);
        var (a, b) = (cluster[0], cluster[1]);
        var jobId = await cluster.PublishedJobAsync(prompts: 2);
        var contributor = await ClusterContributor.SignUpAsync(b, jobId);
        var speech = await TestAudio.SpeechSamplesAsync();

        Guid sessionId;
        await using (var onB = await contributor.ConnectAsync(b))
        {
            sessionId = (Guid)(await onB.InvokeAsync("Join", jobId, false))!["sessionId"]!;
        }
        var node = await cluster.ScalarAsync<string>($"SELECT node_id FROM worker_sessions WHERE id = '{sessionId}'");
        node.ShouldContain(b.SiloMarker, Case.Sensitive, "the grain was placed on the node that held the connection");

        await using var onA = await contributor.ConnectAsync(a);
        var joined = await onA.InvokeAsync("Join", jobId, true);
        ((Guid)joined!["sessionId"]!).ShouldBe(sessionId);
        ((string)(await onA.InvokeAsync("NextPrompt"))!["status"]!).ShouldBe("prompt");
        var takeId = (Guid)(await onA.InvokeAsync("StartTake"))!["takeId"]!;
        ((bool)(await RecordingHubTests.RecordWholeTakeAsync(onA, takeId, speech))!["passed"]!).ShouldBeTrue();
        onA.Drain("frame").Count.ShouldBe(speech.Length / 1600, "every chunk's frames came back through node A from the grain on node B");
        var clipId = (Guid)(await onA.InvokeAsync("Submit", takeId, null))!["clipId"]!;

        (await cluster.ScalarAsync<long>($"SELECT count(*) FROM clips WHERE session_id = '{sessionId}'")).ShouldBe(1);
        (await cluster.ScalarAsync<Guid>($"SELECT id FROM clips WHERE session_id = '{sessionId}'")).ShouldBe(clipId);
        (await cluster.ScalarAsync<string>($"SELECT node_id FROM worker_sessions WHERE id = '{sessionId}'"))
            .ShouldBe(node, "the session stayed on node B the whole time");
    }

    [Fact]
    public async Task WhenTheNodeHoldingTheSessionIsKilledMidTakeTheSessionComesBackOnTheOtherWithItsCheckpointedTimeAndPay()
    {
        await using var cluster = await RecordingCluster.StartAsync(2);
        var (a, b) = (cluster[0], cluster[1]);
        var jobId = await cluster.PublishedJobAsync(prompts: 2);
        var contributor = await ClusterContributor.SignUpAsync(b, jobId);
        var speech = await TestAudio.SpeechSamplesAsync();

        var onB = await contributor.ConnectAsync(b);
        var sessionId = (Guid)(await onB.InvokeAsync("Join", jobId, false))!["sessionId"]!;
        var taskId = (Guid)(await onB.InvokeAsync("NextPrompt"))!["prompt"]!["taskId"]!;
        var takeId = (Guid)(await onB.InvokeAsync("StartTake"))!["takeId"]!;
        var (stream, _) = await onB.InvokeWithStreamAsync("Record", takeId);
        var paced = Stopwatch.StartNew();
        long written = 0;
        var seq = 0;
        while (written < 2_000 && paced.Elapsed < TimeSpan.FromSeconds(30))
        {
            await stream.WriteAsync(RecordingHubTests.Chunk(seq, speech.AsSpan(seq % 20 * 1600, 1600)));
            seq++;
            var ahead = TimeSpan.FromMilliseconds(100 * seq) - paced.Elapsed;
            await Task.Delay(ahead > TimeSpan.Zero ? ahead : TimeSpan.Zero); // real-time pacing, as a microphone sends
            written = await cluster.ScalarAsync<long>($"SELECT active_ms FROM worker_sessions WHERE id = '{sessionId}'");
        }
        written.ShouldBeGreaterThanOrEqualTo(2_000);

        b.Server.Kill();
        var failover = Stopwatch.StartNew();
        onB.Abort();
        await onB.DisposeAsync();
        // A checkpoint node B committed just before it died may still land: wait until the row stops moving.
        var checkpointed = -1L;
        var stable = 0;
        await Eventually.TrueAsync(async () =>
        {
            var now = await cluster.ScalarAsync<long>($"SELECT active_ms FROM worker_sessions WHERE id = '{sessionId}'");
            stable = now == checkpointed ? stable + 1 : 0;
            checkpointed = now;
            return stable >= 3;
        }, "the dead node's last checkpoint to settle", TimeSpan.FromSeconds(30));
        await using var onA = await contributor.ConnectAsync(a);
        JsonNode? view = null;
        var attempts = 0;
        while (view is null && failover.Elapsed < TimeSpan.FromSeconds(60))
        {
            attempts++;
            try
            {
                view = await onA.InvokeAsync("Join", jobId, true);
            }
            catch (HubErrorException e) when (e.Message.Contains("session_interrupted:", StringComparison.Ordinal))
            {
                // node B is not yet declared dead; the contributor's browser joins again
            }
        }
        failover.Stop();
        output.WriteLine($"Killed node B after {seq} chunks with {checkpointed} ms checkpointed; the session answered on node A " +
            $"{failover.ElapsedMilliseconds} ms after the kill ({attempts} Join attempts)");

        view.ShouldNotBeNull();
        ((Guid)view["sessionId"]!).ShouldBe(sessionId);
        ((long)view["activeMs"]!).ShouldBe(checkpointed, "the session re-activated with exactly its checkpointed time");
        ((long)view["earned"]!["minor"]!).ShouldBe(PayCalculator.PayForActiveTime(checkpointed, 3000));
        view["resumableTakeId"].ShouldBeNull("the take died with its node");
        ((string)view["message"]!).ShouldContain("the take in progress was lost");
        ((Guid)view["prompt"]!["taskId"]!).ShouldBe(taskId, "the session still holds its prompt");
        (await cluster.ScalarAsync<long>("SELECT count(*) FROM clips")).ShouldBe(0);
        Directory.Exists(Path.Combine(cluster.DataDirectory, "clips")).ShouldBeFalse("no blob of the interrupted take was written");
        (await cluster.ScalarAsync<long>($"SELECT COALESCE(sum(accrued_minor), 0)::bigint FROM earnings_accruals WHERE session_id = '{sessionId}'"))
            .ShouldBe(PayCalculator.PayForActiveTime(checkpointed, 3000), "pay equals the checkpointed time exactly");
        (await cluster.ScalarAsync<string>($"SELECT node_id FROM worker_sessions WHERE id = '{sessionId}'")).ShouldContain(a.SiloMarker);

        var again = (Guid)(await onA.InvokeAsync("StartTake"))!["takeId"]!;
        ((bool)(await RecordingHubTests.RecordWholeTakeAsync(onA, again, speech))!["passed"]!).ShouldBeTrue();
        await onA.InvokeAsync("Submit", again, null);
        (await cluster.ScalarAsync<long>("SELECT count(*) FROM clips")).ShouldBe(1);
    }

    [Fact]
    public async Task FiftySessionsOnEachOfTwoNodesNeverDoubleClaimAndEveryClaimedTaskIsAccountedFor()
    {
        const int perNode = 50;
        const int prompts = 12;
        const int takesPerPrompt = 3;
        const int cap = 1;
        await using var cluster = await RecordingCluster.StartAsync(2);
        // The escrow holds twice the next hour of all the sessions: the check at each round of checkpoints, which pauses a job
        // whose escrow cannot pay the next hour of everyone working, must not stop this one halfway.
        var jobId = await cluster.PublishedJobAsync(prompts, takesPerPrompt, maxTakesPerSpeaker: cap, targetHours: 2 * 2 * perNode);
        var speech = await TestAudio.SpeechSamplesAsync();
        var contributors = new ClusterContributor[2 * perNode];
        using (var gate = new SemaphoreSlim(8))
        {
            await Task.WhenAll(Enumerable.Range(0, contributors.Length).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    contributors[i] = await ClusterContributor.SignUpAsync(cluster[i % 2], jobId);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        var holders = new ConcurrentDictionary<Guid, int>();
        var doubleClaims = new ConcurrentBag<string>();
        var claimed = new ConcurrentBag<Guid>();
        var submitted = new ConcurrentBag<Guid>();
        var start = new TaskCompletionSource();
        var watch = Stopwatch.StartNew();
        var running = contributors.Select((c, index) => Task.Run(async () =>
        {
            await using var client = await c.ConnectAsync(cluster[index % 2]);
            await client.InvokeAsync("Join", jobId, false);
            await start.Task;
            while (watch.Elapsed < TimeSpan.FromMinutes(5))
            {
                var view = await client.InvokeAsync("NextPrompt");
                var status = (string)view!["status"]!;
                if (status == "all_claimed")
                {
                    await Task.Delay(200); // someone else holds every open slot right now: try again shortly, as the recorder's button would
                    continue;
                }
                if (status != "prompt")
                {
                    return status;
                }
                var taskId = (Guid)view["prompt"]!["taskId"]!;
                claimed.Add(taskId);
                if (!holders.TryAdd(taskId, index))
                {
                    doubleClaims.Add($"task {taskId} held by session {holders[taskId]} was also given to {index}");
                }
                var takeId = (Guid)(await client.InvokeAsync("StartTake"))!["takeId"]!;
                await RecordingHubTests.RecordWholeTakeAsync(client, takeId, speech);
                holders.TryRemove(taskId, out _); // before the server lets go of it, so no later claim can race the removal
                try
                {
                    await client.InvokeAsync("Submit", takeId, null);
                    submitted.Add(taskId);
                }
                catch (HubErrorException e) when (e.Message.Contains("speaker_cap:", StringComparison.Ordinal))
                {
                    return "speaker_cap";
                }
            }
            return "gave up";
        })).ToList();
        start.SetResult(); // every session joined on its node first; now they all claim at once
        var outcomes = await Task.WhenAll(running);
        watch.Stop();
        output.WriteLine($"{2 * perNode} sessions on two nodes: {claimed.Count} claims, {submitted.Count} clips in {watch.ElapsedMilliseconds} ms");

        doubleClaims.ShouldBeEmpty();
        outcomes.ShouldAllBe(o => o == "job_complete" || o == "speaker_cap" || o == "nothing_left");
        (await cluster.ScalarAsync<long>($"SELECT count(*) FROM clips WHERE job_id = '{jobId}'")).ShouldBe(prompts * takesPerPrompt);
        (await cluster.ScalarAsync<long>($"SELECT count(*) FROM recording_tasks WHERE job_id = '{jobId}' AND accepted_takes = takes_needed"))
            .ShouldBe(prompts * takesPerPrompt);
        (await cluster.ScalarAsync<long>($"SELECT count(*) FROM recording_tasks WHERE job_id = '{jobId}' AND claimed_by_session_id IS NOT NULL"))
            .ShouldBe(0, "every claimed task ended in a clip or went back to the pool");
        (await cluster.ScalarAsync<long>($"SELECT count(*) FROM (SELECT contributor_id FROM clips WHERE job_id = '{jobId}' GROUP BY contributor_id HAVING count(*) > {cap}) x"))
            .ShouldBe(0, "no speaker passed the job's cap");
        (await cluster.ScalarAsync<long>($"SELECT count(DISTINCT task_id) FROM clips WHERE job_id = '{jobId}'")).ShouldBe(prompts * takesPerPrompt);
        (await cluster.ScalarAsync<long>($"SELECT COALESCE(sum(accepted_takes), 0)::bigint FROM recording_speakers WHERE job_id = '{jobId}'"))
            .ShouldBe(prompts * takesPerPrompt);
        submitted.Distinct().Count().ShouldBe(prompts * takesPerPrompt);
    }
}
