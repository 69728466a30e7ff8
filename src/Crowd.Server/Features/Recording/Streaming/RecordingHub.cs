using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading.Channels;
using Crowd.Audio.Analysis;
using Crowd.Audio.Quality;
using Crowd.Audio.Wav;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Recording;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Features.Recording.Tasks;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Recording.Streaming;

/// <summary>
/// The recorder's connection. It only moves data: audio chunks are checked and queued here, analysed by a separate
/// loop per take (so a slow step never stalls the connection), and quality frames go back as "frame" messages.
/// </summary>
[Authorize(Policy = Roles.Contributor)]
public sealed class RecordingHub(
    SessionRegistry registry,
    WorkerSessions sessions,
    TaskClaims claims,
    ConsentGate gate,
    ClipVault vault,
    CrowdDb db,
    TimeProvider clock,
    IOptions<CrowdOptions> options,
    IStringLocalizer<RecordingText> text,
    ILogger<RecordingHub> logger) : Hub
{
    public const string Path = "/hubs/recording";
    private const string SessionKey = "session";
    private const string CultureKey = "culture";
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private RecordingOptions Options => options.Value.Recording;

    public override Task OnConnectedAsync()
    {
        var culture = Context.GetHttpContext()?.Features.Get<IRequestCultureFeature>()?.RequestCulture.UICulture;
        Context.Items[CultureKey] = culture ?? CultureInfo.GetCultureInfo("en");
        return Task.CompletedTask;
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.TryGetValue(SessionKey, out var id) && registry.TryGet((Guid)id!, out var live))
        {
            var wasHolder = false;
            lock (live.Gate)
            {
                if (live.ConnectionId == Context.ConnectionId)
                {
                    live.ConnectionId = null; // the take stays resumable until the session goes idle
                    wasHolder = true;
                }
            }
            if (wasHolder)
            {
                await sessions.DetachAsync(live.Id, Context.ConnectionId, CancellationToken.None);
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
        var live = await sessions.OpenAsync(job!, userId, Context.ConnectionAborted);
        if (!takeOver && await sessions.HeldElsewhereAsync(live.Id, Context.ConnectionAborted))
        {
            throw Error(RecordingErrors.OpenElsewhere);
        }
        lock (live.Gate)
        {
            if (live.ConnectionId is { } other && other != Context.ConnectionId)
            {
                if (!takeOver)
                {
                    throw Error(RecordingErrors.OpenElsewhere);
                }
                live.StreamCancel?.Cancel();
                _ = Clients.Client(other).SendAsync("moved", text[RecordingErrors.SessionMoved].Value);
            }
            live.ConnectionId = Context.ConnectionId;
            live.Clock.Touch(clock.GetUtcNow());
        }
        Context.Items[SessionKey] = live.Id;
        await sessions.AttachAsync(live, Context.ConnectionId, Context.ConnectionAborted);
        return await ViewAsync(live, "joined");
    }

    /// <summary>Claims the next prompt that still needs takes (giving back the one in hand, if any).</summary>
    public async Task<SessionView> NextPrompt()
    {
        var live = Current();
        return await ClaimAsync(live);
    }

    /// <summary>Skips the prompt in hand for the rest of this session and claims another.</summary>
    public async Task<SessionView> Skip()
    {
        var live = Current();
        lock (live.Gate)
        {
            if (live.Prompt is { } held)
            {
                live.Skipped.Add(held.Claim.PromptId);
            }
            live.DiscardTake();
            live.Clock.Touch(clock.GetUtcNow());
        }
        return await ClaimAsync(live);
    }

    private async Task<SessionView> ClaimAsync(LiveSession live)
    {
        await EnsureTermsUnchangedAsync(live);
        Guid[] skipped;
        lock (live.Gate)
        {
            EnsureNotStreaming(live);
            live.DiscardTake();
            live.Prompt = null;
            skipped = live.Skipped.ToArray();
        }
        var result = await claims.ClaimNextAsync(live.Id, live.JobId, live.ContributorId, skipped, Context.ConnectionAborted);
        if (result.Task is { } claim)
        {
            var promptText = await db.Prompts.Where(p => p.Id == claim.PromptId).Select(p => p.Text).SingleAsync(Context.ConnectionAborted);
            lock (live.Gate)
            {
                live.Prompt = new HeldPrompt(claim, promptText);
            }
            await db.WorkerSessions.Where(s => s.Id == live.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.CurrentTaskId, claim.TaskId), Context.ConnectionAborted);
        }
        var (status, message) = result.Outcome switch
        {
            ClaimOutcome.Claimed => ("prompt", null),
            ClaimOutcome.JobClosed => ("job_closed", "This job is closed; no more prompts will be given out."),
            ClaimOutcome.JobNotOpen => ("job_not_open", RecordingErrors.JobNotOpen),
            ClaimOutcome.JobComplete => ("job_complete", "Every prompt of this job has all the takes it needs. Thank you!"),
            ClaimOutcome.SpeakerCapReached => ("speaker_cap", RecordingErrors.SpeakerCap),
            ClaimOutcome.NothingLeftForYou => ("nothing_left", "You have recorded or skipped every prompt that still needs takes."),
            _ => ("all_claimed", "Every remaining prompt is being recorded by someone else right now. Try again in a few minutes."),
        };
        return await ViewAsync(live, status, message);
    }

    /// <summary>Starts a new take of the prompt in hand (discarding any previous one: a re-record) and renews the claim.</summary>
    public async Task<TakeStarted> StartTake()
    {
        var live = Current();
        await EnsureTermsUnchangedAsync(live);
        Guid takeId;
        lock (live.Gate)
        {
            EnsureNotStreaming(live);
            if (live.Prompt is null)
            {
                throw Error(RecordingErrors.NoPrompt);
            }
            takeId = live.StartTake();
            live.Clock.Touch(clock.GetUtcNow());
        }
        await claims.RenewAsync([live.Id], Context.ConnectionAborted);
        return new TakeStarted(takeId, LiveSession.SampleRate, 100);
    }

    /// <summary>
    /// Receives one take's audio. Completing the stream stops the take and answers with the verdict. A dropped
    /// connection leaves the take open: the client resumes it by calling Record again with the chunks from the
    /// session's NextSeq on. Any bad chunk ends the take with an error and keeps nothing of it.
    /// </summary>
    public async Task<TakeResult?> Record(Guid takeId, IAsyncEnumerable<AudioChunk> chunks)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var live = Current();
        var aborted = Context.ConnectionAborted;
        CancellationTokenSource streamCancel;
        lock (live.Gate)
        {
            if (live.Streaming)
            {
                throw Error(RecordingErrors.OneStream);
            }
            if (live.TakeId != takeId || live.TakeState != TakeState.Recording)
            {
                throw Error(RecordingErrors.UnknownTake);
            }
            live.Streaming = true;
            streamCancel = live.StreamCancel = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        }

        var options = Options;
        var queue = Channel.CreateBounded<PendingChunk>(new BoundedChannelOptions(options.AnalysisQueueChunks)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var caller = Clients.Caller;
        var analysis = Task.Run(() => AnalyseAsync(live, takeId, queue.Reader, caller));
        var limiter = new ChunkRateLimiter(options.ChunksPerSecond, options.ChunkBurst, clock.GetTimestamp(), clock);
        var maxSamples = (long)options.MaxTakeSeconds * LiveSession.SampleRate;
        var queuedSamples = (long)live.Audio.Length;
        var idleAfter = TimeSpan.FromSeconds(options.StreamIdleSeconds);
        using var idle = new CancellationTokenSource(idleAfter, clock);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(streamCancel.Token, idle.Token);
        HubException? failure = null;
        var connectionGone = false;
        try
        {
            await foreach (var chunk in chunks.WithCancellation(stop.Token))
            {
                idle.CancelAfter(idleAfter);
                failure = Accept(live, chunk, limiter, queue.Writer, ref queuedSamples, maxSamples);
                if (failure is not null)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !streamCancel.IsCancellationRequested)
        {
            failure = Error(RecordingErrors.StreamIdle, options.StreamIdleSeconds);
        }
        catch (Exception) when (aborted.IsCancellationRequested)
        {
            connectionGone = true;
        }
        catch (OperationCanceledException) when (streamCancel.IsCancellationRequested)
        {
            failure = Error(RecordingErrors.SessionMoved);
        }
        queue.Writer.TryComplete();
        var behind = await analysis;
        failure ??= behind ? Error(RecordingErrors.ServerBehind) : null;

        lock (live.Gate)
        {
            live.Streaming = false;
            live.StreamCancel = null;
            streamCancel.Dispose();
            if (failure is not null)
            {
                if (live.TakeId == takeId)
                {
                    live.DiscardTake();
                }
                throw failure;
            }
            if (connectionGone || live.TakeId != takeId)
            {
                return null; // nobody to answer; the take waits for the contributor to come back
            }
            var report = live.Analyzer.Complete();
            var verdict = QualityGate.Judge(report, live.Job.Thresholds);
            live.Finish(report, verdict);
            live.Clock.Touch(clock.GetUtcNow());
            return new TakeResult(takeId, verdict.Passed,
                verdict.Reasons.Select(r => new VerdictReasonView(r.Code, text[r.Hint].Value)).ToArray(), Metrics(report));
        }
    }

    private HubException? Accept(LiveSession live, AudioChunk? chunk, ChunkRateLimiter limiter, ChannelWriter<PendingChunk> queue,
        ref long queuedSamples, long maxSamples)
    {
        var options = Options;
        if (chunk?.Pcm is null)
        {
            return Error(RecordingErrors.NotPcm);
        }
        if (!limiter.TryTake())
        {
            return Error(RecordingErrors.TooFast);
        }
        if (chunk.SampleRate != LiveSession.SampleRate)
        {
            return Error(RecordingErrors.WrongRate, chunk.SampleRate);
        }
        if (chunk.Seq < live.ExpectedSeq)
        {
            return null; // a chunk re-sent after a reconnect: already have it
        }
        if (chunk.Seq > live.ExpectedSeq)
        {
            return Error(RecordingErrors.MissingChunk, live.ExpectedSeq, chunk.Seq);
        }
        var maxBytes = options.MaxChunkSamples * 2;
        if (chunk.Pcm.Length > ((maxBytes + 2) / 3 * 4))
        {
            return Error(RecordingErrors.TooBig, options.MaxChunkSamples);
        }
        var bytes = ArrayPool<byte>.Shared.Rent(maxBytes + 3);
        try
        {
            if (!Convert.TryFromBase64String(chunk.Pcm, bytes, out var length) || length == 0 || length % 2 != 0)
            {
                return Error(RecordingErrors.NotPcm);
            }
            var count = length / 2;
            if (queuedSamples + count > maxSamples)
            {
                return Error(RecordingErrors.TakeTooLong, options.MaxTakeSeconds);
            }
            var samples = ArrayPool<short>.Shared.Rent(count);
            MemoryMarshal.Cast<byte, short>(bytes.AsSpan(0, length)).CopyTo(samples);
            if (!BitConverter.IsLittleEndian)
            {
                System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(samples.AsSpan(0, count), samples.AsSpan(0, count));
            }
            if (!queue.TryWrite(new PendingChunk(chunk.Seq, samples, count)))
            {
                ArrayPool<short>.Shared.Return(samples);
                return Error(RecordingErrors.ServerBehind);
            }
            queuedSamples += count;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
        lock (live.Gate)
        {
            live.ExpectedSeq = chunk.Seq + 1;
            live.Clock.Touch(clock.GetUtcNow());
        }
        return null;
    }

    /// <summary>The take's analysis loop, off the receive loop. Returns true when frames could not be delivered in time.</summary>
    private async Task<bool> AnalyseAsync(LiveSession live, Guid takeId, ChannelReader<PendingChunk> queue, IClientProxy caller)
    {
        var frames = new LiveFrame[8];
        var failed = false;
        await foreach (var chunk in queue.ReadAllAsync())
        {
            try
            {
                if (failed)
                {
                    continue;
                }
                live.Audio.Append(chunk.Samples.AsSpan(0, chunk.Count));
                for (var offset = 0; offset < chunk.Count;)
                {
                    // At most a few frames per slice, so the frame buffer always has room.
                    var length = Math.Min(chunk.Count - offset, LiveSession.SampleRate / 2);
                    var written = live.Analyzer.Append(chunk.Samples.AsSpan(offset, length), frames);
                    offset += length;
                    for (var i = 0; i < written; i++)
                    {
                        var f = frames[i];
                        var hints = live.Hints.Next(f);
                        try
                        {
                            await caller.SendAsync("frame", new QualityFrame(takeId, chunk.Seq, f.Index, f.RmsDbfs, f.PeakDbfs,
                                f.ClippedSamples, f.Speech, f.NoiseFloorDbfs, hints));
                        }
                        catch (Exception e) when (e is not OutOfMemoryException)
                        {
                            logger.LogDebug(e, "A quality frame could not be sent");
                        }
                    }
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                logger.LogError(e, "Analysis of take {TakeId} failed", takeId);
                failed = true;
            }
            finally
            {
                ArrayPool<short>.Shared.Return(chunk.Samples);
            }
        }
        return failed;
    }

    /// <summary>Drops the current take (a re-record) and counts the interaction.</summary>
    public Task Discard()
    {
        var live = Current();
        lock (live.Gate)
        {
            EnsureNotStreaming(live);
            live.DiscardTake();
            live.Clock.Touch(clock.GetUtcNow());
        }
        return Task.CompletedTask;
    }

    /// <summary>An interaction that is work without audio reaching the server: listening back, the microphone check, reading the prompt again.</summary>
    public async Task<SessionView> Ping(string activity)
    {
        var live = Current();
        lock (live.Gate)
        {
            live.Clock.Touch(clock.GetUtcNow());
        }
        return await ViewAsync(live, activity);
    }

    /// <summary>Stores the passing take: encrypted WAV in the clip store, its row, the prompt's count and the session's time, together.</summary>
    public async Task<SubmitResult> Submit(Guid takeId, BrowserSettings? settings)
    {
        var live = Current();
        byte[] wav;
        ClipReport report;
        Verdict verdict;
        HeldPrompt prompt;
        long activeMs;
        lock (live.Gate)
        {
            if (live.TakeId != takeId || live.TakeState != TakeState.Passed || live.Prompt is null || live.Report is null || live.Verdict is null)
            {
                throw Error(RecordingErrors.NothingToSubmit);
            }
            live.MarkSubmitting();
            wav = WavWriter.Pcm16Mono(live.Audio.Samples, LiveSession.SampleRate);
            (report, verdict, prompt) = (live.Report, live.Verdict, live.Prompt);
            live.Clock.Touch(clock.GetUtcNow());
            activeMs = live.Clock.Settle(clock.GetUtcNow());
        }
        if (!await gate.TermsStillAsync(live.JobId, live.JobVersion, CancellationToken.None))
        {
            // A take recorded under terms that are no longer current is not kept; the time it took is.
            lock (live.Gate)
            {
                live.DiscardTake();
                live.Prompt = null;
            }
            throw await NeedsConsentAsync(live.JobId);
        }

        var clipId = Guid.CreateVersion7();
        StoredClip? stored = null;
        AcceptOutcome outcome;
        try
        {
            stored = await vault.StoreAsync(clipId, wav, CancellationToken.None);
            outcome = await claims.AcceptAsync(new Clip
            {
                Id = clipId,
                TakeId = takeId,
                SessionId = live.Id,
                TaskId = prompt.Claim.TaskId,
                JobId = live.JobId,
                JobVersion = live.JobVersion,
                PromptId = prompt.Claim.PromptId,
                ContributorId = live.ContributorId,
                StorageKey = stored.StorageKey,
                Sha256 = stored.Sha256,
                SizeBytes = stored.SizeBytes,
                WrappedKey = stored.WrappedKey,
                SampleRate = LiveSession.SampleRate,
                DurationMs = (int)Math.Round(report.DurationSeconds * 1000),
                Metrics = JsonSerializer.Serialize(report, s_json),
                Verdict = JsonSerializer.Serialize(new { passed = verdict.Passed, codes = verdict.Codes.ToArray() }, s_json),
                BrowserSettings = JsonSerializer.Serialize(settings ?? new BrowserSettings(null, null, null, null, null, null, null), s_json),
                CreatedAt = clock.GetUtcNow(),
            }, activeMs, CancellationToken.None);
        }
        catch
        {
            if (stored is not null)
            {
                await vault.DeleteAsync(stored.StorageKey, CancellationToken.None);
            }
            lock (live.Gate)
            {
                if (live.TakeId == takeId)
                {
                    live.RestorePassed();
                }
            }
            throw;
        }

        if (outcome != AcceptOutcome.Accepted)
        {
            await vault.DeleteAsync(stored.StorageKey, CancellationToken.None);
            lock (live.Gate)
            {
                live.DiscardTake();
                live.Prompt = null;
            }
            throw Error(outcome switch
            {
                AcceptOutcome.SpeakerCapReached => RecordingErrors.SpeakerCap,
                AcceptOutcome.ConsentWithdrawn => RecordingErrors.ConsentWithdrawn,
                AcceptOutcome.TermsChanged => RecordingErrors.NeedsConsent,
                _ => RecordingErrors.ClaimLost,
            });
        }
        lock (live.Gate)
        {
            live.DiscardTake();
            live.Prompt = null;
            live.ClipsThisSession++;
        }
        return new SubmitResult(clipId, await ViewAsync(live, "submitted"));
    }

    /// <summary>Ends the session: time is written, the prompt in hand goes back.</summary>
    public async Task Leave()
    {
        var live = Current();
        await sessions.CloseAsync(live.Id, Context.ConnectionAborted);
    }

    private LiveSession Current()
    {
        UseCallerCulture();
        if (!Context.Items.TryGetValue(SessionKey, out var id) || !registry.TryGet((Guid)id!, out var live))
        {
            throw Error(Context.Items.ContainsKey(SessionKey) ? RecordingErrors.SessionEnded : RecordingErrors.NotJoined);
        }
        lock (live.Gate)
        {
            if (live.Closed)
            {
                throw Error(RecordingErrors.SessionEnded);
            }
            if (live.ConnectionId != Context.ConnectionId)
            {
                throw Error(RecordingErrors.SessionMoved);
            }
        }
        return live;
    }

    /// <summary>When the job has published new terms since the session began, its work stops until the contributor consents to them.</summary>
    private async Task EnsureTermsUnchangedAsync(LiveSession live)
    {
        if (!await gate.TermsStillAsync(live.JobId, live.JobVersion, Context.ConnectionAborted))
        {
            throw await NeedsConsentAsync(live.JobId);
        }
    }

    /// <summary>The error, preceded by a "needsConsent" message naming the consent screen, which the recorder opens.</summary>
    private async Task<HubException> NeedsConsentAsync(Guid jobId)
    {
        await Clients.Caller.SendAsync("needsConsent", $"/Recording/{jobId}/Consent", Context.ConnectionAborted);
        return Error(RecordingErrors.NeedsConsent);
    }

    private void EnsureNotStreaming(LiveSession live)
    {
        if (live.Streaming)
        {
            throw Error(RecordingErrors.OneStream);
        }
    }

    private async Task<SessionView> ViewAsync(LiveSession live, string status, string? message = null)
    {
        var progress = await db.RecordingTasks.Where(t => t.JobId == live.JobId)
            .GroupBy(_ => 1)
            .Select(g => new { Accepted = g.Sum(t => t.AcceptedTakes), Needed = g.Sum(t => t.TakesNeeded) })
            .SingleOrDefaultAsync(Context.ConnectionAborted);
        lock (live.Gate)
        {
            var active = live.Clock.Settle(clock.GetUtcNow());
            var earned = new Money(Earnings.PayCalculator.PayForActiveTime(active, live.Job.HourlyRateMinor), live.Job.Currency);
            var prompt = live.Prompt is { } p ? new PromptView(p.Claim.TaskId, p.Claim.Ordinal, p.Text) : null;
            var resumable = live.TakeState == TakeState.Recording ? live.TakeId : null;
            return new SessionView(live.Id, live.Job.Title, active, earned, live.ClipsThisSession, progress?.Accepted ?? 0, progress?.Needed ?? 0,
                prompt, status, message is null ? null : text[message].Value, resumable, resumable is null ? 0 : live.ExpectedSeq);
        }
    }

    private static TakeMetrics Metrics(ClipReport r) => new(r.DurationSeconds, r.RmsDbfs, r.PeakDbfs, r.SpeechLevelDbfs, r.NoiseFloorDbfs,
        r.SnrDb, r.SpeechRatio, r.ClippedRatio, r.LeadingSilenceSeconds, r.TrailingSilenceSeconds);

    private void UseCallerCulture()
    {
        if (Context.Items.TryGetValue(CultureKey, out var culture) && culture is CultureInfo c)
        {
            CultureInfo.CurrentUICulture = c;
        }
    }

    private HubException Error(string message, params object[] arguments) => new(text[message, arguments].Value);

    private readonly record struct PendingChunk(int Seq, short[] Samples, int Count);
}
