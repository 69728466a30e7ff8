using Crowd.Server.Infrastructure.Money;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Crowd.Audio.Analysis;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Features.Recording.Streaming;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Core.Internal;

namespace Crowd.Server.Tests.Features.Recording;

/// <summary>
/// The server for hub tests: a burst that holds a whole take, so takes can be sent faster than real time.
/// </summary>
public sealed class HubApp : RecordingApp
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crowd:Recording:StreamIdleSeconds", "2");
        builder.UseSetting("Crowd:Recording:AudioAheadSeconds", "60");
    }
}

public sealed class RecordingHubTests(HubApp app) : IClassFixture<HubApp>
{
    internal static Task<(SignalRJsonClient Client, TestJob Job, Guid User, string Cookie)> JoinedAsync(RecordingApp app, int prompts = 3, bool consent = true) =>
        new HubConnector(app).JoinedAsync(prompts, consent);

    private Task<(SignalRJsonClient Client, TestJob Job, Guid User, string Cookie)> JoinedAsync(int prompts = 3, bool consent = true) =>
        new HubConnector(app).JoinedAsync(prompts, consent);

    private Task<SignalRJsonClient> ConnectAsync(string cookie) => new HubConnector(app).ConnectAsync(cookie);

    /// <summary>Streams a whole take as fast as the hub takes it and returns the verdict.</summary>
    internal static async Task<System.Text.Json.Nodes.JsonNode?> RecordWholeTakeAsync(SignalRJsonClient client, Guid takeId, short[] samples)
    {
        var (stream, result) = await client.InvokeWithStreamAsync("Record", takeId);
        await SendAsync(stream, samples);
        await stream.CompleteAsync();
        return await result;
    }

    internal static object Chunk(int seq, ReadOnlySpan<short> samples, int rate = 16_000) =>
        new { seq, pcm = Convert.ToBase64String(MemoryMarshal.AsBytes(samples)), sampleRate = rate };

    internal static async Task<Guid> PromptAndTakeAsync(SignalRJsonClient client, Guid jobId)
    {
        await client.InvokeAsync("Join", jobId, false);
        var view = await client.InvokeAsync("NextPrompt");
        ((string)view!["status"]!).ShouldBe("prompt");
        return (Guid)(await client.InvokeAsync("StartTake"))!["takeId"]!;
    }

    /// <summary>Returns once the server has analysed chunk <paramref name="seq"/> (its frame is back), or the take has ended.</summary>
    internal static async Task FrameOfAsync(SignalRJsonClient client, int seq, Task result)
    {
        while (!result.IsCompleted)
        {
            var frame = client.NextAsync("frame");
            if (await Task.WhenAny(frame, result) == frame && (int)(await frame)[0]!["seq"]! == seq)
            {
                return;
            }
        }
    }

    private static async Task SendAsync(SignalRJsonClient.UploadChannel stream, short[] samples, int fromSeq = 0, int toSeq = int.MaxValue)
    {
        for (var seq = fromSeq; seq * 1600 < samples.Length && seq < toSeq; seq++)
        {
            await stream.WriteAsync(Chunk(seq, samples.AsSpan(seq * 1600, Math.Min(1600, samples.Length - (seq * 1600)))));
        }
    }

    [Fact]
    public async Task ASpokenTakeGetsLiveFramesAndAPassingVerdictAndIsStoredEncryptedWhenSubmitted()
    {
        var (client, job, user, _) = await JoinedAsync();
        await using var _ = client;
        var speech = await TestAudio.SpeechSamplesAsync();
        var takeId = await PromptAndTakeAsync(client, job.Id);

        var verdict = await RecordWholeTakeAsync(client, takeId, speech);

        var frames = client.Drain("frame");
        frames.Count.ShouldBe(speech.Length / 1600);
        frames.Select(f => (int)f[0]!["seq"]!).ShouldBe(Enumerable.Range(0, speech.Length / 1600));
        frames.ShouldContain(f => (bool)f[0]!["speech"]!);
        ((bool)verdict!["passed"]!).ShouldBeTrue(verdict.ToJsonString());

        var submitted = await client.InvokeAsync("Submit", takeId, new { echoCancellation = false, noiseSuppression = false, autoGainControl = false, trackSampleRate = 44100, channelCount = 1, contextSampleRate = 44100, userAgent = "test" });
        var clipId = (Guid)submitted!["clipId"]!;
        ((int)submitted["session"]!["clipsThisSession"]!).ShouldBe(1);

        var clip = await app.WithDbAsync(db => db.Clips.AsNoTracking().SingleAsync(c => c.Id == clipId));
        clip.ContributorId.ShouldBe(user);
        clip.JobVersion.ShouldBe(1);
        clip.DurationMs.ShouldBe((int)Math.Round(speech.Length / 16.0));
        JsonNode.Parse(clip.Metrics)!["snrDb"].ShouldNotBeNull();
        JsonNode.Parse(clip.BrowserSettings)!["echoCancellation"]!.GetValue<bool>().ShouldBeFalse();
        var blob = await File.ReadAllBytesAsync(Path.Combine(app.DataDirectory, "clips", clip.StorageKey));
        blob.AsSpan().IndexOf("RIFF"u8).ShouldBe(-1, "the blob at rest is not a readable WAV");
        await using var scope = app.Services.CreateAsyncScope();
        var wav = await scope.ServiceProvider.GetRequiredService<ClipVault>().ReadAsync(clip, default);
        Convert.ToHexStringLower(SHA256.HashData(wav!)).ShouldBe(clip.Sha256);
        SpeechAnalyzer.AnalyzeWav(wav).SampleCount.ShouldBe(speech.Length);
        (await app.WithDbAsync(db => db.RecordingTasks.SingleAsync(t => t.Id == clip.TaskId))).AcceptedTakes.ShouldBe(1);
    }

    [Fact]
    public async Task TheTimeASubmittedTakeTookIsPaidIntoTheContributorsPayableAtTheJobsRate()
    {
        var (client, job, user, _) = await JoinedAsync();
        await using var _ = client;
        var speech = await TestAudio.SpeechSamplesAsync();
        var takeId = await PromptAndTakeAsync(client, job.Id);
        await RecordWholeTakeAsync(client, takeId, speech);

        await client.InvokeAsync("Submit", takeId, new { echoCancellation = false, noiseSuppression = false, autoGainControl = false });

        var (activeMs, rate, currency, payable) = await app.WithDbAsync(async db =>
        {
            var session = await db.WorkerSessions.AsNoTracking().SingleAsync(s => s.ContributorId == user && s.JobId == job.Id);
            var terms = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == job.Id);
            var balance = await Crowd.Server.Features.Ledger.LedgerQueries.BalanceAsync(db,
                Crowd.Server.Features.Ledger.AccountRef.Payable(user, terms.Terms.Currency));
            return (session.ActiveMs, terms.Terms.HourlyRateMinor, terms.Terms.Currency, balance);
        });
        activeMs.ShouldBeGreaterThan(0);
        payable.ShouldBe(new Money((activeMs * rate + 3_599_999) / 3_600_000, currency), "pay for every active millisecond, rounded up");
    }

    [Fact]
    public async Task ATakeStreamedOverMessagePackIsStoredSampleForSample()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, 3);
        var user = await RecordingTestData.ContributorAsync(app, job);
        var cookie = await new HubConnector(app).CookieAsync(user.Email!);
        await using var connection = new HubConnectionBuilder()
            .WithUrl("http://localhost" + RecordingHub.Path, o =>
            {
                o.Transports = HttpTransportType.WebSockets;
                o.SkipNegotiation = true;
                o.WebSocketFactory = (context, token) =>
                {
                    var ws = app.Server.CreateWebSocketClient();
                    ws.ConfigureRequest = r => r.Headers.Cookie = cookie;
                    return new ValueTask<WebSocket>(ws.ConnectAsync(context.Uri, token));
                };
            })
            .AddMessagePackProtocol()
            .Build();
        var frames = 0;
        connection.On<QualityFrame>("frame", _ => Interlocked.Increment(ref frames));
        await connection.StartAsync();
        await connection.InvokeAsync<SessionView>("Join", job.Id, false);
        (await connection.InvokeAsync<SessionView>("NextPrompt")).Prompt.ShouldNotBeNull();
        var take = await connection.InvokeAsync<TakeStarted>("StartTake");
        var speech = await TestAudio.SpeechSamplesAsync();

        // Each chunk in an array of its own, sent without waiting, so the node reads many ahead of the session and reuses their arrays.
        var chunks = Channel.CreateUnbounded<AudioChunk>();
        var recording = connection.InvokeAsync<TakeResult?>("Record", take.TakeId, chunks.Reader);
        for (var seq = 0; seq * 1600 < speech.Length; seq++)
        {
            var samples = speech.AsSpan(seq * 1600, Math.Min(1600, speech.Length - seq * 1600));
            chunks.Writer.TryWrite(new AudioChunk(seq, MemoryMarshal.AsBytes(samples).ToArray(), 16_000));
        }
        chunks.Writer.Complete();
        var verdict = await recording;
        var submitted = await connection.InvokeAsync<SubmitResult>("Submit", take.TakeId, new BrowserSettings(false, false, false, 48_000, 1, 48_000, "test"));

        verdict!.Passed.ShouldBeTrue();
        frames.ShouldBe(speech.Length / 1600);
        var clip = await app.WithDbAsync(db => db.Clips.AsNoTracking().SingleAsync(c => c.Id == submitted.ClipId));
        await using var scope = app.Services.CreateAsyncScope();
        var wav = await scope.ServiceProvider.GetRequiredService<ClipVault>().ReadAsync(clip, default);
        TestAudio.Samples(wav!).ShouldBe(speech);
    }

    [Fact]
    public async Task ASilentTakeIsExplainedCannotBeSubmittedAndLeavesItsReasonForTheJobsDashboard()
    {
        var (client, job, _, _) = await JoinedAsync();
        await using var _ = client;
        var takeId = await PromptAndTakeAsync(client, job.Id);

        var verdict = await RecordWholeTakeAsync(client, takeId, new short[16_000 * 3]);

        ((bool)verdict!["passed"]!).ShouldBeFalse();
        verdict["reasons"]!.AsArray().Select(r => (string)r!["code"]!).ShouldContain("no_speech");
        client.Drain("frame").Last()[0]!["hints"]!.AsArray().Select(h => (string)h!).ShouldContain("no_speech");
        (await Should.ThrowAsync<HubErrorException>(() => client.InvokeAsync("Submit", takeId, null))).Message.ShouldContain("no passing take");
        (await app.WithDbAsync(db => db.Clips.CountAsync(c => c.JobId == job.Id))).ShouldBe(0);
        var outcome = await app.WithDbAsync(db => db.Set<Crowd.Server.Features.Recording.Takes.TakeOutcome>().SingleAsync(t => t.TakeId == takeId));
        outcome.Passed.ShouldBeFalse();
        outcome.JobId.ShouldBe(job.Id);
        outcome.Issues.ShouldContain("no_speech");
    }

    [Fact]
    public async Task RecordingWithoutConsentIsRefused()
    {
        var (client, job, _, _) = await JoinedAsync(consent: false);
        await using var _ = client;

        (await Should.ThrowAsync<HubErrorException>(() => client.InvokeAsync("Join", job.Id, false))).Message.ShouldContain("consent");
    }

    [Fact]
    public async Task JoiningAJobThatIsNotLiveIsRefusedAsNotOpen()
    {
        var (client, job, _, _) = await JoinedAsync();
        await using var _ = client;
        await app.WithDbAsync(db => db.Set<Crowd.Server.Features.Escrow.JobBudget>().Where(b => b.JobId == job.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.PausedAt, DateTimeOffset.UtcNow)));

        (await Should.ThrowAsync<HubErrorException>(() => client.InvokeAsync("Join", job.Id, false))).Message.ShouldContain("This job is not open for recording.");
    }

    public static TheoryData<string, string> BadChunks => new()
    {
        { "gap", "went missing" },
        { "rate", "16000 Hz" },
        { "base64", "not 16-bit PCM" },
        { "odd", "not 16-bit PCM" },
        { "oversized", "larger than 4000 samples" },
        { "null", "not 16-bit PCM" },
    };

    [Theory]
    [MemberData(nameof(BadChunks))]
    public async Task ABadChunkEndsTheTakeWithAClearErrorAndKeepsNothing(string kind, string error)
    {
        var (client, job, _, _) = await JoinedAsync();
        await using var _ = client;
        var speech = await TestAudio.SpeechSamplesAsync();
        var takeId = await PromptAndTakeAsync(client, job.Id);

        var (stream, result) = await client.InvokeWithStreamAsync("Record", takeId);
        await SendAsync(stream, speech, 0, 5);
        await stream.WriteAsync(kind switch
        {
            "gap" => Chunk(7, speech.AsSpan(0, 1600)),
            "rate" => Chunk(5, speech.AsSpan(0, 1600), 44_100),
            "base64" => new { seq = 5, pcm = "this is not base64!", sampleRate = 16_000 },
            "odd" => new { seq = 5, pcm = Convert.ToBase64String(new byte[3]), sampleRate = 16_000 },
            "oversized" => Chunk(5, new short[5_000]),
            _ => new { seq = 5, pcm = (string?)null, sampleRate = 16_000 },
        });

        (await Should.ThrowAsync<HubErrorException>(() => result)).Message.ShouldContain(error);
        (await Should.ThrowAsync<HubErrorException>(() => client.InvokeAsync("Submit", takeId, null))).Message.ShouldContain("no passing take");
        var (again, _) = await client.InvokeWithStreamAsync("Record", takeId);
        await again.CompleteAsync();
        (await app.WithDbAsync(db => db.Clips.CountAsync(c => c.JobId == job.Id))).ShouldBe(0);
    }

    [Fact]
    public async Task SkipWhileATakeIsStreamingIsRefusedAndTheTakeKeepsEveryChunk()
    {
        var (client, job, _, _) = await JoinedAsync();
        await using var _ = client;
        var speech = await TestAudio.SpeechSamplesAsync();
        var takeId = await PromptAndTakeAsync(client, job.Id);
        var (stream, result) = await client.InvokeWithStreamAsync("Record", takeId);
        await SendAsync(stream, speech, 0, 10);
        await client.NextAsync("frame"); // the take has audio in its buffer

        var skip = await Should.ThrowAsync<HubErrorException>(() => client.InvokeAsync("Skip"));
        await SendAsync(stream, speech, 10);
        await stream.CompleteAsync();
        var verdict = await result;

        skip.Message.ShouldContain("one_stream: A take is already being recorded");
        ((double)verdict!["metrics"]!["durationSeconds"]!).ShouldBe(speech.Length / 16_000.0, 0.001);
        ((bool)verdict["passed"]!).ShouldBeTrue();
        var submitted = await client.InvokeAsync("Submit", takeId, null);
        var clip = await app.WithDbAsync(db => db.Clips.AsNoTracking().SingleAsync(c => c.Id == (Guid)submitted!["clipId"]!));
        clip.DurationMs.ShouldBe((int)Math.Round(speech.Length / 16.0));
    }

    [Fact]
    public async Task AStreamItemThatCannotBeReadEndsTheTakeAndLeavesTheSessionFreeToRecord()
    {
        var (client, job, _, _) = await JoinedAsync();
        await using var _ = client;
        var speech = await TestAudio.SpeechSamplesAsync();
        var takeId = await PromptAndTakeAsync(client, job.Id);
        var (stream, result) = await client.InvokeWithStreamAsync("Record", takeId);
        await SendAsync(stream, speech, 0, 3);

        await stream.WriteAsync(new { seq = "zero", pcm = Convert.ToBase64String(new byte[3200]), sampleRate = 16_000 });

        (await Should.ThrowAsync<HubErrorException>(() => result)).Message.ShouldContain("not_pcm:");
        var again = (Guid)(await client.InvokeAsync("StartTake"))!["takeId"]!;
        var (retry, retried) = await client.InvokeWithStreamAsync("Record", again);
        await SendAsync(retry, speech);
        await retry.CompleteAsync();
        ((bool)(await retried)!["passed"]!).ShouldBeTrue("a new take records normally: the session is not stuck as already recording");
    }

    [Fact]
    public async Task DuplicatedChunksAreIgnored()
    {
        var (client, job, _, _) = await JoinedAsync();
        await using var _ = client;
        var speech = await TestAudio.SpeechSamplesAsync();
        var takeId = await PromptAndTakeAsync(client, job.Id);

        var (stream, result) = await client.InvokeWithStreamAsync("Record", takeId);
        await SendAsync(stream, speech, 0, 10);
        await SendAsync(stream, speech, 5, 10);
        await SendAsync(stream, speech, 10);
        await stream.CompleteAsync();
        var verdict = await result;

        ((double)verdict!["metrics"]!["durationSeconds"]!).ShouldBe(speech.Length / 16_000.0, 0.001);
    }

    [Fact]
    public async Task ASecondTabIsRefusedUntilItTakesTheSessionOver()
    {
        var (first, job, _, cookie) = await JoinedAsync();
        await using var _ = first;
        await first.InvokeAsync("Join", job.Id, false);
        await using var second = await ConnectAsync(cookie);

        (await Should.ThrowAsync<HubErrorException>(() => second.InvokeAsync("Join", job.Id, false))).Message.ShouldContain("another tab");
        var view = await second.InvokeAsync("Join", job.Id, true);

        ((string)(await first.NextAsync("moved"))[0]!).ShouldContain("taken over");
        (await Should.ThrowAsync<HubErrorException>(() => first.InvokeAsync("NextPrompt"))).Message.ShouldContain("taken over");
        (await second.InvokeAsync("NextPrompt"))!["sessionId"]!.ToString().ShouldBe(view!["sessionId"]!.ToString());
    }

    [Fact]
    public async Task AClientThatStopsSendingMidTakeLosesTheTakeWithAClearError()
    {
        var (client, job, _, _) = await JoinedAsync();
        await using var _ = client;
        var speech = await TestAudio.SpeechSamplesAsync();
        var takeId = await PromptAndTakeAsync(client, job.Id);

        var (stream, result) = await client.InvokeWithStreamAsync("Record", takeId);
        await SendAsync(stream, speech, 0, 5);

        (await Should.ThrowAsync<HubErrorException>(() => result)).Message.ShouldContain("No audio arrived for 2 seconds");
        (await Should.ThrowAsync<HubErrorException>(() => client.InvokeAsync("Submit", takeId, null))).Message.ShouldContain("no passing take");
    }

    [Fact]
    public async Task AMessageOverTheSizeLimitClosesTheConnection()
    {
        var (client, job, _, _) = await JoinedAsync();
        await using var _ = client;
        var takeId = await PromptAndTakeAsync(client, job.Id);

        var (stream, result) = await client.InvokeWithStreamAsync("Record", takeId);
        await stream.WriteAsync(Chunk(0, new short[40_000]));

        await Should.ThrowAsync<InvalidOperationException>(() => result);
        client.Closed.ShouldBeTrue();
    }

    [Fact]
    public async Task NothingCanBeRecordedAfterTheSessionEnded()
    {
        var (client, job, _, _) = await JoinedAsync();
        await using var _ = client;
        var takeId = await PromptAndTakeAsync(client, job.Id);
        await client.InvokeAsync("Leave");

        (await Should.ThrowAsync<HubErrorException>(async () =>
        {
            var (stream, result) = await client.InvokeWithStreamAsync("Record", takeId);
            await stream.WriteAsync(Chunk(0, new short[1600]));
            await result;
        })).Message.ShouldContain("session has ended");
    }

    [Fact]
    public async Task APromptCannotBeClaimedOnceTheJobIsClosed()
    {
        var (client, job, _, _) = await JoinedAsync();
        await using var _ = client;
        await client.InvokeAsync("Join", job.Id, false);
        await app.WithDbAsync(db => db.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Closed)));

        var view = await client.InvokeAsync("NextPrompt");

        ((string)view!["status"]!).ShouldBe("job_closed");
        view["prompt"].ShouldBeNull();
    }

    [Fact]
    public async Task ADroppedConnectionResumesTheTakeFromTheNextChunk()
    {
        var (client, job, cookie, speech, takeId, _, _) = await TwelveChunksInAsync();
        client.Abort();
        await client.DisposeAsync();

        await using var back = await ConnectAsync(cookie);
        JsonNode? view = null;
        await Eventually.TrueAsync(async () => (int)(view = await back.InvokeAsync("Join", job.Id, false))!["nextSeq"]! == 12,
            "the server to notice the dropped socket", TimeSpan.FromSeconds(10));
        ((Guid)view!["resumableTakeId"]!).ShouldBe(takeId);
        await ResumesWithAllItsAudioAsync(back, takeId, speech, fromSeq: 10);
    }

    [Fact]
    public async Task APageThatReconnectsBeforeTheServerNoticedItsOldSocketGoneTakesTheSessionBackAndResumesTheTake()
    {
        var (client, job, cookie, speech, takeId, recording, _) = await TwelveChunksInAsync();
        await using var _ = client;

        // The old connection is still open as far as the server knows; the page's new one takes the session over at once.
        await using var back = await ConnectAsync(cookie);
        var view = await back.InvokeAsync("Join", job.Id, true);
        ((Guid)view!["resumableTakeId"]!).ShouldBe(takeId);
        ((int)view["nextSeq"]!).ShouldBe(12);
        await ResumesWithAllItsAudioAsync(back, takeId, speech, fromSeq: 12);
        (await Should.ThrowAsync<HubErrorException>(() => recording)).Message.ShouldContain("taken over");
    }

    [Fact]
    public async Task ASessionWhoseActivationEndsMidTakeEndsTheStreamAsInterruptedAndIsJoinedAgain()
    {
        var (client, job, _, speech, _, recording, stream) = await TwelveChunksInAsync();
        await using var _ = client;
        var sessionId = (Guid)(await client.InvokeAsync("Ping", "mic_check"))!["sessionId"]!;
        app.Services.GetRequiredService<LocalSessions>().Open(sessionId).ShouldNotBeNull("the session lives on the node of its connection");

        await app.Services.GetRequiredService<IGrainFactory>().GetGrain<IWorkerSessionGrain>(sessionId)
            .Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await Eventually.TrueAsync(() => Task.FromResult(app.Services.GetRequiredService<LocalSessions>().Open(sessionId) is null),
            "the activation to end", TimeSpan.FromSeconds(10));
        // As the recorder does, it sends until the take ends: the first chunk after the activation ended ends it.
        for (var seq = 12; !recording.IsCompleted && seq < speech.Length / 1600; seq++)
        {
            await SendAsync(stream, speech, seq, seq + 1);
            await FrameOfAsync(client, seq, recording);
        }

        (await Should.ThrowAsync<HubErrorException>(() => recording)).Message.ShouldContain("session_interrupted:");
        var view = await client.InvokeAsync("Join", job.Id, false);
        ((string)view!["status"]!).ShouldBe("joined");
        ((string)view["message"]!).ShouldStartWith("The server holding your session stopped");
        view["resumableTakeId"].ShouldBeNull();
    }

    /// <summary>A spoken take whose first twelve chunks the server has analysed, its stream still open.</summary>
    private async Task<(SignalRJsonClient Client, TestJob Job, string Cookie, short[] Speech, Guid TakeId, Task<JsonNode?> Recording,
        SignalRJsonClient.UploadChannel Stream)> TwelveChunksInAsync()
    {
        var (client, job, _, cookie) = await JoinedAsync();
        var speech = await TestAudio.SpeechSamplesAsync();
        var takeId = await PromptAndTakeAsync(client, job.Id);
        var (stream, recording) = await client.InvokeWithStreamAsync("Record", takeId);
        await SendAsync(stream, speech, 0, 12);
        await FrameOfAsync(client, 11, recording); // the server has every chunk sent
        return (client, job, cookie, speech, takeId, recording, stream);
    }

    /// <summary>Sends the rest of the take from <paramref name="fromSeq"/> on another connection: it passes, with all its audio once.</summary>
    private static async Task ResumesWithAllItsAudioAsync(SignalRJsonClient back, Guid takeId, short[] speech, int fromSeq)
    {
        var (resumed, result) = await back.InvokeWithStreamAsync("Record", takeId);
        await SendAsync(resumed, speech, fromSeq);
        await resumed.CompleteAsync();
        var verdict = await result;

        ((double)verdict!["metrics"]!["durationSeconds"]!).ShouldBe(speech.Length / 16_000.0, 0.001);
        ((bool)verdict["passed"]!).ShouldBeTrue();
    }
}

/// <summary>Signs a contributor in and connects them to the hub of a test server.</summary>
internal sealed class HubConnector(RecordingApp app)
{
    public async Task<(SignalRJsonClient Client, TestJob Job, Guid User, string Cookie)> JoinedAsync(int prompts = 3, bool consent = true)
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts);
        var user = await RecordingTestData.ContributorAsync(app, consent ? job : null);
        var cookie = await CookieAsync(user.Email!);
        var client = await ConnectAsync(cookie);
        return (client, job, user.Id, cookie);
    }

    public async Task<string> CookieAsync(string email)
    {
        var http = app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, AllowAutoRedirect = false });
        var response = await http.PostAsJsonAsync("/api/accounts/signin", new { email, password = TestAccounts.Password });
        response.EnsureSuccessStatusCode();
        return string.Join("; ", response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
    }

    public async Task<SignalRJsonClient> ConnectAsync(string cookie)
    {
        var ws = app.Server.CreateWebSocketClient();
        ws.ConfigureRequest = r => r.Headers.Cookie = cookie;
        return await SignalRJsonClient.ConnectAsync(await ws.ConnectAsync(new Uri("ws://localhost/hubs/recording"), default));
    }
}

/// <summary>The recording server with the default audio rate limit and a clock the test moves.</summary>
public sealed class RateClockApp : RecordingApp
{
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(Time));
    }
}

public sealed class AudioRateTests(RateClockApp app) : IClassFixture<RateClockApp>
{
    [Fact]
    public async Task QuarterSecondChunksEvery55MillisecondsEndTheStreamAsFasterThanRealTime()
    {
        var (client, job, _, _) = await RecordingHubTests.JoinedAsync(app);
        await using var _ = client;
        var takeId = await RecordingHubTests.PromptAndTakeAsync(client, job.Id);

        var (stream, result) = await client.InvokeWithStreamAsync("Record", takeId);
        var sent = 0;
        for (; sent < 40 && !result.IsCompleted; sent++)
        {
            await stream.WriteAsync(RecordingHubTests.Chunk(sent, new short[4_000]));
            await RecordingHubTests.FrameOfAsync(client, sent, result); // the server has this chunk before the clock moves on
            app.Time.Advance(TimeSpan.FromMilliseconds(55));
        }

        (await Should.ThrowAsync<HubErrorException>(() => result)).Message.ShouldContain("too_fast:");
        sent.ShouldBeLessThan(10);
    }

    [Fact]
    public async Task RealTimeAudioInLargeChunksIsAccepted()
    {
        var (client, job, _, _) = await RecordingHubTests.JoinedAsync(app);
        await using var _ = client;
        var speech = await TestAudio.SpeechSamplesAsync();
        var takeId = await RecordingHubTests.PromptAndTakeAsync(client, job.Id);

        var (stream, result) = await client.InvokeWithStreamAsync("Record", takeId);
        for (var seq = 0; seq * 4_000 < speech.Length; seq++)
        {
            await stream.WriteAsync(RecordingHubTests.Chunk(seq, speech.AsSpan(seq * 4_000, Math.Min(4_000, speech.Length - (seq * 4_000)))));
            await RecordingHubTests.FrameOfAsync(client, seq, result);
            app.Time.Advance(TimeSpan.FromMilliseconds(250));
        }
        await stream.CompleteAsync();

        ((bool)(await result)!["passed"]!).ShouldBeTrue();
    }
}

public sealed class RecordingRateLimitTests(RecordingApp app) : IClassFixture<RecordingApp>
{
    [Fact]
    public async Task AudioFasterThanRealTimeEndsTheStream()
    {
        var (client, job, _, _) = await RecordingHubTests.JoinedAsync(app);
        await using var _ = client;
        var takeId = await RecordingHubTests.PromptAndTakeAsync(client, job.Id);

        var (stream, result) = await client.InvokeWithStreamAsync("Record", takeId);
        // The largest chunks the hub takes, 15 s of audio in all: more than a second ahead of the time since the take
        // started however slow the machine is (25 ms chunks, 1.5 s in all, were not on a busy one).
        for (var seq = 0; seq < 60 && !result.IsCompleted; seq++)
        {
            await stream.WriteAsync(RecordingHubTests.Chunk(seq, new short[4_000]));
        }

        (await Should.ThrowAsync<HubErrorException>(() => result)).Message.ShouldContain("faster than real time");
    }
}
