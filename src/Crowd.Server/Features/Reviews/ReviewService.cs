using System.Text.Json;
using Crowd.Audio.Analysis;
using Crowd.Server.Features.Audit;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Reviews;

public enum ReviewOutcomeKind
{
    Ok,
    NotFound,
    Invalid,
    /// <summary>A state the action does not apply to: already reviewed, already appealed, already decided, own clip.</summary>
    Refused,
}

public sealed record ReviewOutcome(ReviewOutcomeKind Kind, IReadOnlyList<FieldError>? Errors = null, string? Refusal = null, long? PayReversedMinor = null)
{
    public static readonly ReviewOutcome Ok = new(ReviewOutcomeKind.Ok);
    public static readonly ReviewOutcome NotFound = new(ReviewOutcomeKind.NotFound);

    public static ReviewOutcome Invalid(IReadOnlyList<FieldError> errors) => new(ReviewOutcomeKind.Invalid, errors);

    public static ReviewOutcome Refused(string reason) => new(ReviewOutcomeKind.Refused, Refusal: reason);
}

/// <summary>Which waiting clips a reviewer wants to see, by the analyzer's metrics; null means no bound.</summary>
public sealed record QueueFilter(double? MinSnrDb = null, double? MinSpeechPercent = null, double? MinSeconds = null, double? MaxSeconds = null)
{
    public bool IsEmpty => MinSnrDb is null && MinSpeechPercent is null && MinSeconds is null && MaxSeconds is null;
}

/// <summary>A clip waiting in a requester's review queue.</summary>
public sealed record QueueClip(Guid ClipId, string PromptText, int DurationMs, ClipReport? Metrics, DateTimeOffset RecordedAt, DateTimeOffset AutoAcceptAt);

/// <summary>A rejection as its contributor or an admin sees it.</summary>
public sealed record RejectionView(
    Guid ClipId, Guid JobId, string JobTitle, string PromptText, string Currency, RejectionReason Reason, string Note, bool ByPeers,
    DateTimeOffset RejectedAt, string? AppealNote, DateTimeOffset? AppealedAt, AppealOutcome? Outcome, string? DecisionNote,
    DateTimeOffset? DecidedAt, long? PayReversedMinor, bool Withdrawn, bool AudioAvailable, DateTimeOffset? AppealBy = null,
    DateTimeOffset? PayTakenBackAt = null);

/// <summary>Why someone may hear a clip; written to the audit log with every read.</summary>
public enum AudioPurpose
{
    Review,
    Appeal,
    PeerValidation,
    Speaker,
    /// <summary>An admin looking into a dispute about the clip (a complaint, a coercion report), under its reference.</summary>
    Dispute,
    /// <summary>An admin answering a legal request (a court order, a regulator), under its reference.</summary>
    LegalRequest,
}

/// <summary>Whether a read of a clip's audio may go ahead, and for what.</summary>
public sealed record AudioAccess(AudioPurpose? Purpose, string? Reference = null, IReadOnlyList<FieldError>? Errors = null)
{
    public static readonly AudioAccess NotFound = new((AudioPurpose?)null);
}

/// <summary>
/// Requester review, appeals and their decisions. Every query is scoped to who asks: a requester sees only their
/// organisation's clips, a contributor only their own rejections; anything else is simply not found.
/// </summary>
public sealed class ReviewService(CrowdDb db, AuditLog audit, ClipVault vault, Notifications.Notifications notifications, TimeProvider clock,
    IOptions<CrowdOptions> options)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public int AutoAcceptDays => options.Value.Reviews.AutoAcceptDays;

    /// <summary>The organisation's job, or null when it is not theirs.</summary>
    public Task<Job?> JobOfAsync(Guid organisationId, Guid jobId, CancellationToken ct) =>
        db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId && j.OrganisationId == organisationId, ct);

    /// <summary>
    /// Clips still waiting for the requester, oldest first (they are the nearest to auto-accept); with a filter, only those
    /// whose analyzer metrics meet it (the count is of every waiting clip either way).
    /// </summary>
    public async Task<(int Waiting, IReadOnlyList<QueueClip> Clips)> QueueAsync(Guid jobId, int take, CancellationToken ct, QueueFilter? filter = null)
    {
        var waiting = Waiting(jobId);
        var count = await waiting.CountAsync(ct);
        var shown = waiting;
        if (filter is { IsEmpty: false } f)
        {
            var (snr, speech, from, to) = (f.MinSnrDb, f.MinSpeechPercent / 100, f.MinSeconds, f.MaxSeconds);
            var matching = db.Database.SqlQuery<Guid>($"""
                SELECT c.id AS "Value" FROM clips c
                WHERE c.job_id = {jobId}
                  AND ({snr}::float8 IS NULL OR (c.metrics->>'snrDb')::float8 >= {snr}::float8)
                  AND ({speech}::float8 IS NULL OR (c.metrics->>'speechRatio')::float8 >= {speech}::float8)
                  AND ({from}::float8 IS NULL OR c.duration_ms >= {from}::float8 * 1000)
                  AND ({to}::float8 IS NULL OR c.duration_ms <= {to}::float8 * 1000)
                """);
            shown = waiting.Where(c => matching.Contains(c.Id));
        }
        var rows = await shown.OrderBy(c => c.CreatedAt).Take(take)
            .Join(db.Prompts, c => c.PromptId, p => p.Id, (c, p) => new { c.Id, p.Text, c.DurationMs, c.Metrics, c.CreatedAt })
            .ToListAsync(ct);
        var window = TimeSpan.FromDays(AutoAcceptDays);
        return (count, rows.Select(r => new QueueClip(r.Id, r.Text, r.DurationMs, ReadMetrics(r.Metrics), r.CreatedAt, r.CreatedAt + window)).ToList());
    }

    private IQueryable<Clip> Waiting(Guid jobId) => db.Clips.AsNoTracking()
        .Where(c => c.JobId == jobId && c.ReviewStatus == ClipReview.Waiting && c.WithdrawnAt == null && c.AudioDestroyedAt == null);

    public static ClipReport? ReadMetrics(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<ClipReport>(json, s_json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Remembers that a reviewer heard a clip, for <see cref="AcceptPlayedAsync"/>; hearing it again changes nothing.</summary>
    public Task RecordPlayAsync(Guid clipId, Guid reviewerId, CancellationToken ct) => db.Database.ExecuteSqlAsync($"""
        INSERT INTO clip_plays (clip_id, reviewer_id, first_played_at) VALUES ({clipId}, {reviewerId}, {clock.GetUtcNow()})
        ON CONFLICT DO NOTHING
        """, ct);

    /// <summary>
    /// Accepts every clip of the job still waiting that passed the analyzer and that this reviewer played through the
    /// review player; each is decided (and audited) as if accepted one by one. Returns how many were accepted.
    /// </summary>
    public async Task<int> AcceptPlayedAsync(Guid organisationId, Guid requesterId, Guid jobId, CancellationToken ct)
    {
        var played = await db.Database.SqlQuery<Guid>($"""
            SELECT c.id AS "Value" FROM clips c
            JOIN jobs j ON j.id = c.job_id AND j.organisation_id = {organisationId}
            JOIN clip_plays p ON p.clip_id = c.id AND p.reviewer_id = {requesterId}
            WHERE c.job_id = {jobId} AND c.review_status = {(int)ClipReview.Waiting} AND c.withdrawn_at IS NULL AND c.audio_destroyed_at IS NULL
              AND (c.verdict->>'passed')::boolean
            ORDER BY c.created_at
            """).ToListAsync(ct);
        var accepted = 0;
        foreach (var clip in played)
        {
            if ((await AcceptAsync(organisationId, requesterId, clip, ct)).Kind == ReviewOutcomeKind.Ok)
            {
                accepted++;
            }
        }
        return accepted;
    }

    public Task<ReviewOutcome> AcceptAsync(Guid organisationId, Guid requesterId, Guid clipId, CancellationToken ct) =>
        DecideClipAsync(organisationId, requesterId, clipId, ClipReview.Accepted, null, ct);

    public Task<ReviewOutcome> RejectAsync(Guid organisationId, Guid requesterId, Guid clipId, string? reasonCode, string? note, CancellationToken ct)
    {
        var errors = ReviewRules.ValidateRejection(reasonCode, note, out var reason);
        return errors.Count > 0
            ? Task.FromResult(ReviewOutcome.Invalid(errors))
            : DecideClipAsync(organisationId, requesterId, clipId, ClipReview.Rejected, (reason, note!.Trim()), ct);
    }

    private async Task<ReviewOutcome> DecideClipAsync(Guid organisationId, Guid requesterId, Guid clipId, ClipReview status,
        (RejectionReason Reason, string Note)? rejection, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // The organisation check and the "still waiting" check are part of the one update, so two reviewers cannot both decide.
        var changed = await db.Clips
            .Where(c => c.Id == clipId && c.ReviewStatus == ClipReview.Waiting && c.WithdrawnAt == null && c.AudioDestroyedAt == null
                        && db.Jobs.Any(j => j.Id == c.JobId && j.OrganisationId == organisationId))
            .ExecuteUpdateAsync(s => s
                .SetProperty(c => c.ReviewStatus, status)
                .SetProperty(c => c.ReviewedAt, now)
                .SetProperty(c => c.ReviewedByKind, "requester")
                .SetProperty(c => c.ReviewedBy, requesterId), ct);
        if (changed == 0)
        {
            var visible = await db.Clips.AnyAsync(c => c.Id == clipId && c.WithdrawnAt == null
                && db.Jobs.Any(j => j.Id == c.JobId && j.OrganisationId == organisationId), ct);
            return visible ? ReviewOutcome.Refused("This clip has already been reviewed.") : ReviewOutcome.NotFound;
        }
        if (rejection is { } r)
        {
            db.Add(new ClipRejection
            {
                ClipId = clipId, Reason = r.Reason, Note = r.Note, RejectedBy = requesterId, RejectedAt = now,
                AppealBy = ReviewRules.AppealBy(r.Reason, now),
            });
            await db.SaveChangesAsync(ct);
            await RejectionNotices.RejectedAsync(db, notifications, clipId, r.Reason, r.Note, ReviewRules.AppealBy(r.Reason, now), ct);
        }
        await audit.AppendAsync(new AuditEvent("requester", requesterId, rejection is null ? "review.accepted" : "review.rejected", "clip",
            clipId.ToString(), rejection?.Note ?? "", rejection is { } d ? JsonSerializer.Serialize(new { reason = d.Reason.Code() }, s_json) : "{}"), ct);
        await tx.CommitAsync(ct);
        return ReviewOutcome.Ok;
    }

    /// <summary>
    /// The clip's audio for someone allowed to hear it, with the read in the audit log; null when they may not
    /// (not found to them), or when the clip was withdrawn or its audio destroyed.
    /// </summary>
    public async Task<byte[]?> ReadAudioAsync(Guid clipId, Guid userId, string actorKind, AudioPurpose purpose, CancellationToken ct,
        string? reference = null)
    {
        var clip = await db.Clips.AsNoTracking().SingleOrDefaultAsync(c => c.Id == clipId && c.WithdrawnAt == null && c.AudioDestroyedAt == null, ct);
        if (clip is null)
        {
            return null;
        }
        var wav = await vault.ReadAsync(clip, ct);
        if (wav is null)
        {
            return null;
        }
        var details = reference is null ? "{}" : JsonSerializer.Serialize(new { purpose = ReviewRules.PurposeCode(purpose), reference }, s_json);
        await audit.AppendAsync(new AuditEvent(actorKind, userId, "audio.read", "clip", clipId.ToString(), PurposeText(purpose), details), ct);
        return wav;
    }

    public static string PurposeText(AudioPurpose purpose) => purpose switch
    {
        AudioPurpose.Review => "review",
        AudioPurpose.Appeal => "appeal",
        AudioPurpose.PeerValidation => "peer validation",
        AudioPurpose.Dispute => "dispute",
        AudioPurpose.LegalRequest => "legal request",
        _ => "speaker listening to their own clip",
    };

    /// <summary>
    /// Why this user may hear this clip. An admin has no standing reason to: they state one from a fixed list, and it must
    /// be true (an appeal only where the clip's rejection was appealed; a dispute or legal request with its reference).
    /// Everyone else's purpose follows from who they are to the clip. Not found when they may not hear it at all.
    /// </summary>
    public async Task<AudioAccess> AudioAccessAsync(Guid clipId, Guid userId, Guid? organisationId, bool isAdmin, bool isRequester, bool isContributor,
        string? statedPurpose, string? reference, PeerValidation peers, CancellationToken ct)
    {
        var clip = await db.Clips.AsNoTracking().Where(c => c.Id == clipId && c.WithdrawnAt == null && c.AudioDestroyedAt == null)
            .Select(c => new { c.JobId, c.ContributorId, c.ReviewStatus }).SingleOrDefaultAsync(ct);
        if (clip is null)
        {
            return AudioAccess.NotFound;
        }
        if (isAdmin)
        {
            var appealed = await db.Set<ClipRejection>().AnyAsync(r => r.ClipId == clipId && r.AppealedAt != null, ct);
            var errors = ReviewRules.ValidateAdminRead(statedPurpose, reference, appealed, out var purpose);
            return errors.Count > 0 ? new AudioAccess(null, Errors: errors) : new AudioAccess(purpose, purpose == AudioPurpose.Appeal ? null : reference!.Trim());
        }
        var own = await OwnPurposeAsync(clip.JobId, clip.ContributorId, clip.ReviewStatus, userId, organisationId, isRequester, isContributor, peers, ct);
        if (own is null)
        {
            return AudioAccess.NotFound;
        }
        return statedPurpose is null || ReviewRules.PurposeCode(own.Value) == statedPurpose.Trim()
            ? new AudioAccess(own)
            : new AudioAccess(null, Errors: [new("purpose", "You may listen to this clip only for {0}.", ReviewRules.PurposeCode(own.Value))]);
    }

    private async Task<AudioPurpose?> OwnPurposeAsync(Guid jobId, Guid contributorId, ClipReview status, Guid userId, Guid? organisationId,
        bool isRequester, bool isContributor, PeerValidation peers, CancellationToken ct)
    {
        if (isRequester && organisationId is { } org && await db.Jobs.AnyAsync(j => j.Id == jobId && j.OrganisationId == org, ct))
        {
            return AudioPurpose.Review;
        }
        if (isContributor && contributorId == userId)
        {
            return AudioPurpose.Speaker;
        }
        if (isContributor && status == ClipReview.Waiting && await peers.MayValidateAsync(jobId, userId, ct))
        {
            return AudioPurpose.PeerValidation;
        }
        return null;
    }

    /// <summary>Every rejection of the contributor's clips, newest first.</summary>
    public async Task<List<RejectionView>> RejectionsOfAsync(Guid contributorId, CancellationToken ct) =>
        (await (from r in db.Set<ClipRejection>().AsNoTracking()
                join c in db.Clips on r.ClipId equals c.Id
                join j in db.Jobs on c.JobId equals j.Id
                join p in db.Prompts on c.PromptId equals p.Id
                where c.ContributorId == contributorId
                orderby r.RejectedAt descending
                select new { r, c.WithdrawnAt, c.AudioDestroyedAt, j.Id, j.Terms.Title, j.Terms.Currency, p.Text }).ToListAsync(ct))
        .Select(x => View(x.r, x.Id, x.Title, x.Currency, x.Text, x.WithdrawnAt, x.AudioDestroyedAt)).ToList();

    /// <summary>Appeals waiting for an admin, oldest first.</summary>
    public async Task<List<RejectionView>> PendingAppealsAsync(CancellationToken ct) =>
        (await (from r in db.Set<ClipRejection>().AsNoTracking()
                join c in db.Clips on r.ClipId equals c.Id
                join j in db.Jobs on c.JobId equals j.Id
                join p in db.Prompts on c.PromptId equals p.Id
                where r.AppealedAt != null && r.Outcome == null
                orderby r.AppealedAt
                select new { r, c.WithdrawnAt, c.AudioDestroyedAt, j.Id, j.Terms.Title, j.Terms.Currency, p.Text }).ToListAsync(ct))
        .Select(x => View(x.r, x.Id, x.Title, x.Currency, x.Text, x.WithdrawnAt, x.AudioDestroyedAt)).ToList();

    private static RejectionView View(ClipRejection r, Guid jobId, string jobTitle, string currency, string prompt, DateTimeOffset? withdrawnAt,
        DateTimeOffset? destroyedAt) => new(
        r.ClipId, jobId, jobTitle, prompt, currency.Trim(), r.Reason, r.Note, r.RejectedBy == null, r.RejectedAt, r.AppealNote, r.AppealedAt,
        r.Outcome, r.DecisionNote, r.DecidedAt, r.PayReversedMinor, withdrawnAt != null, withdrawnAt == null && destroyedAt == null, r.AppealBy,
        r.PayTakenBackAt);

    /// <summary>The contributor's one appeal of a rejection of their own clip.</summary>
    public async Task<ReviewOutcome> AppealAsync(Guid contributorId, Guid clipId, string? note, CancellationToken ct)
    {
        var errors = ReviewRules.ValidateAppeal(note);
        if (errors.Count > 0)
        {
            return ReviewOutcome.Invalid(errors);
        }
        var now = clock.GetUtcNow();
        var text = note!.Trim();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var changed = await db.Set<ClipRejection>()
            .Where(r => r.ClipId == clipId && r.AppealedAt == null && r.Outcome == null && (r.AppealBy == null || r.AppealBy > now)
                        && r.PayTakenBackAt == null
                        && db.Clips.Any(c => c.Id == r.ClipId && c.ContributorId == contributorId && c.ReviewStatus == ClipReview.Rejected))
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.AppealNote, text).SetProperty(r => r.AppealedAt, now), ct);
        if (changed == 0)
        {
            var own = await db.Set<ClipRejection>().AsNoTracking()
                .Where(r => r.ClipId == clipId && db.Clips.Any(c => c.Id == r.ClipId && c.ContributorId == contributorId)).SingleOrDefaultAsync(ct);
            return own switch
            {
                null => ReviewOutcome.NotFound,
                { AppealedAt: null } => ReviewOutcome.Refused("The time to appeal this rejection has passed."),
                _ => ReviewOutcome.Refused("This rejection has already been appealed. A rejection can be appealed once; the decision is final."),
            };
        }
        await audit.AppendAsync(new AuditEvent("contributor", contributorId, "review.appealed", "clip", clipId.ToString(), text), ct);
        await tx.CommitAsync(ct);
        return ReviewOutcome.Ok;
    }

    /// <summary>
    /// An admin's final decision on an appeal. Reversed: the clip is accepted. Upheld on a fraud ground: the pay for
    /// the clip's time goes back to the job's escrow. Upheld on any other ground: the clip stays rejected and paid.
    /// </summary>
    public async Task<ReviewOutcome> DecideAppealAsync(Guid adminId, Guid clipId, string? outcome, string? note, CancellationToken ct)
    {
        var errors = ReviewRules.ValidateDecision(outcome, note, out var decided);
        if (errors.Count > 0)
        {
            return ReviewOutcome.Invalid(errors);
        }
        var now = clock.GetUtcNow();
        var text = note!.Trim();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var rejection = await db.Set<ClipRejection>().FromSql($"SELECT * FROM clip_rejections WHERE clip_id = {clipId} FOR UPDATE").SingleOrDefaultAsync(ct);
        if (rejection is null || rejection.AppealedAt is null)
        {
            return ReviewOutcome.NotFound;
        }
        if (rejection.Outcome is not null)
        {
            return ReviewOutcome.Refused("This appeal has already been decided. The decision is final.");
        }
        var clip = await db.Clips.AsNoTracking().SingleAsync(c => c.Id == clipId, ct);
        long? reversed = null;
        if (decided == AppealOutcome.Upheld && rejection.Reason.IsFraud())
        {
            reversed = await ReversePayAsync(clip, now, "fraud rejection upheld", ct);
        }
        else if (decided == AppealOutcome.Reversed)
        {
            await db.Clips.Where(c => c.Id == clipId).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.ReviewStatus, ClipReview.Accepted)
                .SetProperty(c => c.ReviewedAt, now)
                .SetProperty(c => c.ReviewedByKind, "admin")
                .SetProperty(c => c.ReviewedBy, adminId), ct);
        }
        rejection.Outcome = decided;
        rejection.DecidedBy = adminId;
        rejection.DecidedAt = now;
        rejection.DecisionNote = text;
        rejection.PayReversedMinor = reversed;
        await db.SaveChangesAsync(ct);
        await audit.AppendAsync(new AuditEvent("admin", adminId, decided == AppealOutcome.Upheld ? "review.appeal_upheld" : "review.appeal_reversed",
            "clip", clipId.ToString(), text, JsonSerializer.Serialize(new { reason = rejection.Reason.Code(), payReversedMinor = reversed }, s_json)), ct);
        var currency = await db.Jobs.Where(j => j.Id == clip.JobId).Select(j => j.Terms.Currency).SingleAsync(ct);
        await RejectionNotices.AppealDecidedAsync(db, notifications, clipId, decided, text, reversed, currency.Trim(), ct);
        await tx.CommitAsync(ct);
        return new ReviewOutcome(ReviewOutcomeKind.Ok, PayReversedMinor: reversed);
    }

    /// <summary>
    /// Takes back the pay for a fraudulent clip's time: the job's rate for that session × the clip's recorded duration
    /// (rounded up, as accruals are). Never more than the session earned less what earlier reversals of its clips took,
    /// and never more than the contributor's payable balance now: money already paid out is not clawed back (no
    /// receivable, no negative balance) — the platform accepts that loss rather than put a person in debt to it.
    /// </summary>
    internal async Task<long> ReversePayAsync(Clip clip, DateTimeOffset now, string why, CancellationToken ct)
    {
        var accrual = await db.Set<EarningsAccrualRow>().AsNoTracking().SingleOrDefaultAsync(a => a.SessionId == clip.SessionId, ct);
        if (accrual is null)
        {
            return 0;
        }
        // A payout run moves payable out while it holds this lock: with it, the balance read here cannot shrink before the posting.
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({PayoutRunner.LockKey})", ct);
        var earlier = await db.Set<ClipRejection>()
            .Where(r => r.PayReversedMinor != null && db.Clips.Any(c => c.Id == r.ClipId && c.SessionId == clip.SessionId))
            .SumAsync(r => r.PayReversedMinor!.Value, ct);
        var payable = AccountRef.Payable(clip.ContributorId, accrual.Currency);
        var balance = (await LedgerQueries.BalanceAsync(db, payable, ct)).Minor;
        var amount = PayReversal.Amount(clip.DurationMs, accrual.HourlyRateMinor, accrual.AccruedMinor - earlier, balance);
        if (amount > 0)
        {
            await LedgerWriter.PostAsync(db, LedgerPosting.Transfer(LedgerTransactionKind.Correction, $"{why}: clip {clip.Id}",
                $"review-reversal:{clip.Id}", payable, AccountRef.Escrow(clip.JobId, accrual.Currency), amount), now, ct);
        }
        return amount;
    }
}

/// <summary>How much pay an upheld fraud rejection takes back. Pure.</summary>
public static class PayReversal
{
    public static long Amount(int clipDurationMs, long hourlyRateMinor, long sessionRemainingMinor, long payableBalanceMinor)
    {
        var forTime = PayCalculator.PayForActiveTime(Math.Max(0, clipDurationMs), hourlyRateMinor);
        return Math.Max(0, Math.Min(forTime, Math.Min(sessionRemainingMinor, payableBalanceMinor)));
    }
}
