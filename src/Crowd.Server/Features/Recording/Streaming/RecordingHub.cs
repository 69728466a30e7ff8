using System.Globalization;
using System.Threading.Channels;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Crowd.Server.Features.Recording.Streaming;

/// <summary>
/// The recorder's connection. It authenticates, checks consent and forwards every call to the contributor's session
/// grain, wherever that lives; audio chunks go to the grain one by one and their quality frames come back as the
/// call's result. Errors reach the browser as "code: translated text".
/// </summary>
[Authorize(Policy = Roles.Contributor)]
public sealed class RecordingHub(
    IGrainFactory grains,
    WorkerSessions sessions,
    LocalSessions localSessions,
    ConsentGate gate,
    IHubContext<RecordingHub> hub,
    TimeProvider clock,
    IOptions<CrowdOptions> options,
    IStringLocalizer<RecordingText> text) : Hub
{
    public const string Path = "/hubs/recording";
    private const string SessionKey = "session";
    private const string CultureKey = "culture";

    public override Task OnConnectedAsync()
    {
        var culture = Context.GetHttpContext()?.Features.Get<IRequestCultureFeature>()?.RequestCulture.UICulture;
        Context.Items[CultureKey] = culture ?? CultureInfo.GetCultureInfo("en");
        return Task.CompletedTask;
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.TryGetValue(SessionKey, out var value) && value is SessionLink link)
        {
            grains.DeleteObjectReference<ISessionObserver>(link.Reference);
            try
            {
                await link.Grain.Detach(Context.ConnectionId);
            }
            catch (Exception e) when (IsNodeLoss(e))
            {
                // the grain's node is gone; so is what it would have detached
            }
        }
    }

    /// <summary>Opens (or resumes) the caller's session on a job. <paramref name="takeOver"/> moves a session open in another tab here.</summary>
    public async Task<SessionView> Join(Guid jobId, bool takeOver = false)
    {
        UseCallerCulture();
        var userId = Context.User!.UserId();
        var (outcome, job) = await gate.CheckAsync(jobId, userId, Context.ConnectionAborted);
        if (outcome == GateOutcome.JobNotOpen)
        {
            throw Error(RecordingErrors.JobNotOpen);
        }
        if (outcome == GateOutcome.NeedsConsent)
        {
            throw await NeedsConsentAsync(jobId);
        }
        var sessionId = await sessions.OpenAsync(job!, userId, Context.ConnectionAborted);
        var link = LinkTo(sessionId, job!.Id, job.Version);
        return View(await CallAsync(() => link.Grain.Join(Context.ConnectionId, link.Reference, takeOver)));
    }

    /// <summary>Claims the next prompt that still needs takes (giving back the one in hand, if any).</summary>
    public async Task<SessionView> NextPrompt()
    {
        var link = await CurrentWithTermsAsync();
        return View(await CallAsync(() => link.Grain.NextPrompt(Context.ConnectionId, skip: false)));
    }

    /// <summary>Skips the prompt in hand for the rest of this session and claims another.</summary>
    public async Task<SessionView> Skip()
    {
        var link = await CurrentWithTermsAsync();
        return View(await CallAsync(() => link.Grain.NextPrompt(Context.ConnectionId, skip: true)));
    }

    /// <summary>Starts a new take of the prompt in hand (discarding any previous one: a re-record) and renews the claim.</summary>
    public async Task<TakeStarted> StartTake()
    {
        var link = await CurrentWithTermsAsync();
        return await CallAsync(() => link.Grain.StartTake(Context.ConnectionId));
    }

    /// <summary>
    /// Receives one take's audio. Completing the stream stops the take and answers with the verdict. A dropped
    /// connection leaves the take open: the client resumes it by calling Record again with the chunks from the
    /// session's NextSeq on. Any bad chunk, or an item that cannot be read at all, ends the take and keeps nothing.
    /// </summary>
    public async Task<TakeResult?> Record(Guid takeId, ChannelReader<AudioChunk> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var link = Current();
        var connectionId = Context.ConnectionId;
        var aborted = Context.ConnectionAborted;
        await CallAsync(() => link.Grain.BeginStream(connectionId, takeId));
        var local = localSessions.Open(link.SessionId);

        var idleSeconds = options.Value.Recording.StreamIdleSeconds;
        var idleAfter = TimeSpan.FromSeconds(idleSeconds);
        using var moved = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        using var idle = new CancellationTokenSource();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(moved.Token, idle.Token);
        using var next = new ChunkWait(chunks, idle, idleAfter, clock, stop.Token);
        link.Observer.Stream = moved;
        var caller = Clients.Caller;
        var end = StreamEnd.Failed;
        (string Error, string[] Arguments)? failure = null;
        try
        {
            while (true)
            {
                if (!chunks.TryRead(out var chunk))
                {
                    if (!await next.WaitAsync())
                    {
                        break; // the client completed the stream
                    }
                    continue;
                }
                ChunkOutcome outcome;
                try
                {
                    outcome = local is null
                        ? await link.Grain.Append(connectionId, takeId, chunk.Seq, chunk.Pcm, chunk.SampleRate)
                        : await local.Append(connectionId, takeId, chunk.Seq, chunk.Pcm, chunk.SampleRate);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failure = (IsNodeLoss(e) ? RecordingErrors.SessionInterrupted : RecordingErrors.ServerBehind, []);
                    break;
                }
                // Answered, so the session has copied the audio (a call that failed may not have been sent yet: its array is left to the GC).
                ChunkBuffers.Shared.Return(chunk.Pcm);
                if (outcome.Error is { } error)
                {
                    failure = (error, outcome.Arguments ?? []);
                    break;
                }
                foreach (var frame in outcome.Frames)
                {
                    await caller.SendAsync("frame", frame, CancellationToken.None);
                }
            }
            end = failure is null ? StreamEnd.Completed : StreamEnd.Failed;
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !moved.IsCancellationRequested)
        {
            failure = (RecordingErrors.StreamIdle, [idleSeconds.ToString(CultureInfo.InvariantCulture)]);
        }
        catch (Exception) when (aborted.IsCancellationRequested)
        {
            end = StreamEnd.ConnectionLost;
        }
        catch (OperationCanceledException) when (moved.IsCancellationRequested)
        {
            failure = (RecordingErrors.SessionMoved, []);
        }
        catch (Exception)
        {
            // A stream item that could not be bound (e.g. "seq": "zero"): the take ends here, so the session is free again.
            failure = (RecordingErrors.NotPcm, []);
        }
        finally
        {
            link.Observer.Stream = null;
        }

        var verdict = await CallAsync(() => link.Grain.EndStream(connectionId, takeId, end));
        if (failure is { } f)
        {
            throw Error(f.Error, f.Arguments);
        }
        return verdict is null ? null : new TakeResult(verdict.TakeId, verdict.Passed,
            verdict.Reasons.Select(r => new VerdictReasonView(r.Code, text[r.Hint].Value)).ToArray(), verdict.Metrics);
    }

    /// <summary>Drops the current take (a re-record) and counts the interaction.</summary>
    public async Task Discard()
    {
        var link = Current();
        await CallAsync(() => link.Grain.Discard(Context.ConnectionId, dropPrompt: false));
    }

    /// <summary>An interaction that is work without audio reaching the server: listening back, the microphone check, reading the prompt again.</summary>
    public async Task<SessionView> Ping(string activity)
    {
        var link = Current();
        return View(await CallAsync(() => link.Grain.Ping(Context.ConnectionId, activity)));
    }

    /// <summary>Stores the passing take: encrypted WAV in the clip store, its row, the prompt's count and the session's time, together.</summary>
    public async Task<SubmitResult> Submit(Guid takeId, BrowserSettings? settings)
    {
        var link = Current();
        if (!await gate.TermsStillAsync(link.JobId, link.JobVersion, CancellationToken.None))
        {
            // A take recorded under terms that are no longer current is not kept; the time it took is.
            await CallAsync(() => link.Grain.Discard(Context.ConnectionId, dropPrompt: true));
            throw await NeedsConsentAsync(link.JobId);
        }
        var submitted = await CallAsync(() => link.Grain.Submit(Context.ConnectionId, takeId, settings));
        return new SubmitResult(submitted.ClipId, View(submitted.Session));
    }

    /// <summary>Ends the session: time is written, the prompt in hand goes back.</summary>
    public async Task Leave()
    {
        var link = Current();
        await CallAsync(() => link.Grain.Leave(Context.ConnectionId));
    }

    private SessionLink Current()
    {
        UseCallerCulture();
        return Context.Items.TryGetValue(SessionKey, out var value) && value is SessionLink link ? link : throw Error(RecordingErrors.NotJoined);
    }

    /// <summary>When the job has published new terms since the session began, its work stops until the contributor consents to them.</summary>
    private async Task<SessionLink> CurrentWithTermsAsync()
    {
        var link = Current();
        if (!await gate.TermsStillAsync(link.JobId, link.JobVersion, Context.ConnectionAborted))
        {
            throw await NeedsConsentAsync(link.JobId);
        }
        return link;
    }

    /// <summary>The connection's link to its session grain, with the observer through which the grain tells it of a take-over.</summary>
    private SessionLink LinkTo(Guid sessionId, Guid jobId, int jobVersion)
    {
        if (Context.Items.TryGetValue(SessionKey, out var value) && value is SessionLink current)
        {
            if (current.SessionId == sessionId)
            {
                return current;
            }
            grains.DeleteObjectReference<ISessionObserver>(current.Reference);
        }
        var observer = new SessionObserver(hub, Context.ConnectionId, (CultureInfo)Context.Items[CultureKey]!, text);
        var link = new SessionLink(sessionId, jobId, jobVersion, grains.GetGrain<IWorkerSessionGrain>(sessionId), observer,
            grains.CreateObjectReference<ISessionObserver>(observer));
        Context.Items[SessionKey] = link;
        return link;
    }

    private async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RecordingRefusedException e)
        {
            throw Error(e.Error, e.Arguments);
        }
        catch (Exception e) when (IsNodeLoss(e))
        {
            throw Error(RecordingErrors.SessionInterrupted);
        }
    }

    private Task<bool> CallAsync(Func<Task> call) => CallAsync(async () =>
    {
        await call();
        return true;
    });

    /// <summary>The grain's node died under the call; the next call activates the session again on a live node.</summary>
    private static bool IsNodeLoss(Exception e) => e is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException;

    /// <summary>The error, preceded by a "needsConsent" message naming the consent screen, which the recorder opens.</summary>
    private async Task<HubException> NeedsConsentAsync(Guid jobId)
    {
        await Clients.Caller.SendAsync("needsConsent", $"/Recording/{jobId}/Consent", Context.ConnectionAborted);
        return Error(RecordingErrors.NeedsConsent);
    }

    private SessionView View(SessionState s) => new(s.SessionId, s.JobTitle, s.ActiveMs, EarnedView.Of(new Money(s.EarnedMinor, s.Currency)),
        s.ClipsThisSession, s.JobTakesAccepted, s.JobTakesNeeded, Progress(s), s.Prompt, s.Status,
        s.Message is null ? null : text[s.Message].Value, s.ResumableTakeId, s.NextSeq);

    private string Progress(SessionState s) =>
        text.Plural(s.JobTakesNeeded, "{1} of {0} prompt recorded", "{1} of {0} prompts recorded", s.JobTakesAccepted) + " · "
        + text.Plural(s.ClipsThisSession, "{0} clip this session", "{0} clips this session");

    private void UseCallerCulture()
    {
        if (Context.Items.TryGetValue(CultureKey, out var culture) && culture is CultureInfo c)
        {
            CultureInfo.CurrentUICulture = c;
        }
    }

    private HubException Error(string error, params string[] arguments) => Error(text, error, arguments);

    internal static HubException Error(IStringLocalizer<RecordingText> text, string error, params string[] arguments) =>
        new($"{RecordingErrors.CodeOf(error)}: {text[error, arguments.Cast<object>().ToArray()].Value}");

    private sealed record SessionLink(Guid SessionId, Guid JobId, int JobVersion, IWorkerSessionGrain Grain, SessionObserver Observer,
        ISessionObserver Reference);
}

/// <summary>The hub's side of a connection's session: the grain calls it when another tab takes the session over.</summary>
internal sealed class SessionObserver(IHubContext<RecordingHub> hub, string connectionId, CultureInfo culture, IStringLocalizer<RecordingText> text)
    : ISessionObserver
{
    /// <summary>The take being streamed on this connection, cancelled when the session moves.</summary>
    public CancellationTokenSource? Stream { get; set; }

    public async Task Moved(string reason)
    {
        try
        {
            Stream?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the stream had just ended
        }
        CultureInfo.CurrentUICulture = culture;
        await hub.Clients.Client(connectionId).SendAsync("moved", $"{RecordingErrors.CodeOf(reason)}: {text[reason].Value}");
    }
}
