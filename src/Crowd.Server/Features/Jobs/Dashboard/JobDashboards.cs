using Crowd.Server.Features.Accounts.Speech;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Suppliers;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Jobs.Dashboard;

/// <summary>Prompts, takes and clips: how far the job has come. Every stored clip is in exactly one of waiting, accepted, rejected, withdrawn.</summary>
public sealed record ProgressFigures(int Prompts, int PromptsCovered, int TakesNeeded, int TakesJudged, int TakesPassed, int Clips,
    int Waiting, int Accepted, int Rejected, int Withdrawn);

/// <summary>Time worked and money, from the ledger and the job's accruals.</summary>
public sealed record MoneyFigures(long ActiveMs, Money Budget, Money Spent, Money TakenBack, Money Escrow, Money Advanced, Money Left,
    Money SpentInWindow, TimeSpan PaceSpan, TimeSpan? UntilMoneyRunsOut);

public sealed record PayFigures(Money Rate, Money? Floor, Money Accrued, Money? Effective);

public sealed record Histogram(HistogramBins Bins, int[] Counts);

public sealed record PassRatePoint(DateTimeOffset At, int Judged, int Passed);

public sealed record QualityFigures(IReadOnlyList<Histogram> Histograms, IReadOnlyList<(string Code, int Takes)> FailureReasons,
    PassRateStep Step, IReadOnlyList<PassRatePoint> PassRate);

/// <summary>A language and accent group of the job's speakers that may be shown (at least five people, see CellSuppression).</summary>
public sealed record SpeakerGroup(string Language, string Accent, int Speakers);

/// <summary>Distinct speakers of the job's kept clips, and the groups that may be shown; <see cref="SpeakersShown"/> is false under five.</summary>
public sealed record PeopleFigures(int Speakers, bool SpeakersShown, IReadOnlyList<SpeakerGroup> Groups, bool SomeHidden);

public sealed record DashboardFigures(Job Job, JobState State, ProgressFigures Progress, MoneyFigures Money, PayFigures Pay,
    QualityFigures Quality, PeopleFigures People, DateTimeOffset AsOf);

/// <summary>What a job's requester sees of it at a glance, computed from the clips, takes, accruals and ledger tables.</summary>
public sealed class JobDashboards(CrowdDb db, TimeProvider clock)
{
    private sealed record ProgressRow(int TakesJudged, int TakesPassed, int Clips, int Waiting, int Accepted, int Rejected, int Withdrawn, int PromptsCovered);

    private sealed record MoneyRow(long ActiveMs, long AccruedMinor, long TakenBackMinor, long SpentInWindowMinor);

    private sealed record BinRow(string Metric, int Bin, int Clips);

    private sealed record ReasonRow(string Code, int Takes);

    private sealed record PassRateRow(DateTime At, int Judged, int Passed);

    private sealed record SpeakerRow(Guid ContributorId, string Language, string Accent);

    /// <summary>The organisation's job with its figures, or null when the organisation has no job with this id.</summary>
    public async Task<DashboardFigures?> FiguresAsync(Guid organisationId, Guid jobId, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId && j.OrganisationId == organisationId, ct);
        return job is null ? null : await FiguresAsync(job, ct);
    }

    public async Task<DashboardFigures> FiguresAsync(Job job, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var funding = (await JobFunding.StatusAsync(db, job.Id, ct))!;
        var hasBudget = await db.Set<JobBudget>().AnyAsync(b => b.JobId == job.Id, ct);
        var state = JobStates.Of(job.Status, hasBudget, funding.Covered, funding.Paused);
        var progress = await ProgressAsync(job, ct);
        var (money, pay) = await MoneyAsync(job, funding, now, ct);
        return new DashboardFigures(job, state, progress, money, pay, await QualityAsync(job, now, ct), await PeopleAsync(job.Id, ct), now);
    }

    private async Task<ProgressFigures> ProgressAsync(Job job, CancellationToken ct)
    {
        var id = job.Id;
        var row = (await db.Database.SqlQuery<ProgressRow>($"""
            SELECT (SELECT count(*) FROM take_outcomes t WHERE t.job_id = {id})::int AS "TakesJudged",
                   (SELECT count(*) FROM take_outcomes t WHERE t.job_id = {id} AND t.passed)::int AS "TakesPassed",
                   count(*)::int AS "Clips",
                   count(*) FILTER (WHERE c.withdrawn_at IS NULL AND c.review_status = {(int)ClipReview.Waiting})::int AS "Waiting",
                   count(*) FILTER (WHERE c.withdrawn_at IS NULL AND c.review_status = {(int)ClipReview.Accepted})::int AS "Accepted",
                   count(*) FILTER (WHERE c.withdrawn_at IS NULL AND c.review_status = {(int)ClipReview.Rejected})::int AS "Rejected",
                   count(*) FILTER (WHERE c.withdrawn_at IS NOT NULL)::int AS "Withdrawn",
                   count(DISTINCT c.prompt_id) FILTER (WHERE c.withdrawn_at IS NULL)::int AS "PromptsCovered"
            FROM clips c WHERE c.job_id = {id}
            """).ToListAsync(ct)).Single();
        return new ProgressFigures(job.PromptCount, row.PromptsCovered, checked(job.PromptCount * job.Terms.TakesPerPrompt), row.TakesJudged,
            row.TakesPassed, row.Clips, row.Waiting, row.Accepted, row.Rejected, row.Withdrawn);
    }

    private async Task<(MoneyFigures, PayFigures)> MoneyAsync(Job job, FundingStatus funding, DateTimeOffset now, CancellationToken ct)
    {
        var id = job.Id;
        var currency = job.Terms.Currency;
        var since = now - DashboardRules.PaceWindow;
        var row = (await db.Database.SqlQuery<MoneyRow>($"""
            SELECT (SELECT coalesce(sum(a.active_ms_total), 0) FROM earnings_accruals a WHERE a.job_id = {id})::bigint AS "ActiveMs",
                   (SELECT coalesce(sum(a.accrued_minor), 0) FROM earnings_accruals a WHERE a.job_id = {id})::bigint AS "AccruedMinor",
                   (SELECT coalesce(sum(r.pay_reversed_minor), 0) FROM clip_rejections r JOIN clips c ON c.id = r.clip_id
                    WHERE c.job_id = {id})::bigint AS "TakenBackMinor",
                   (SELECT coalesce(-sum(e.amount_minor), 0) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
                    WHERE e.account_id IN (ledger_account_id({(int)LedgerAccountKind.Escrow}, {id}, {currency}::bpchar),
                                           ledger_account_id({(int)LedgerAccountKind.PlatformAdvance}, {id}, {currency}::bpchar))
                      AND t.kind = {(int)LedgerTransactionKind.Accrual} AND t.created_at >= {since})::bigint AS "SpentInWindowMinor"
            """).ToListAsync(ct)).Single();
        var left = DashboardRules.MoneyLeft(funding.Remaining.Minor, funding.Escrow.Minor);
        var span = DashboardRules.PaceSpan(now, job.PublishedAt);
        var money = new MoneyFigures(row.ActiveMs, funding.Budget, funding.Spent, new Money(row.TakenBackMinor, currency), funding.Escrow,
            funding.Advanced, new Money(left, currency), new Money(row.SpentInWindowMinor, currency), span,
            DashboardRules.UntilMoneyRunsOut(left, row.SpentInWindowMinor, span));
        var floor = await db.RateFloors.AsNoTracking().SingleOrDefaultAsync(f => f.Region == job.Terms.Region && f.Currency == currency, ct);
        var effective = DashboardRules.EffectiveHourlyRate(row.AccruedMinor, row.TakenBackMinor, row.ActiveMs);
        var pay = new PayFigures(new Money(job.Terms.HourlyRateMinor, currency), floor is null ? null : PayFloor.Of(floor),
            new Money(row.AccruedMinor, currency), effective is { } e ? new Money(e, currency) : null);
        return (money, pay);
    }

    private async Task<QualityFigures> QualityAsync(Job job, DateTimeOffset now, CancellationToken ct)
    {
        var id = job.Id;
        HistogramBins[] bins = [DashboardRules.Snr, DashboardRules.Level, DashboardRules.Duration(job.Terms.ClipMaxMs), DashboardRules.SpeechRatio];
        // The bin arithmetic of HistogramBins.BinOf, in SQL: floor((value − min) / width), clamped to the first and last bin.
        var (snr, level, duration, speech) = (bins[0], bins[1], bins[2], bins[3]);
        var counts = await db.Database.SqlQuery<BinRow>($"""
            SELECT m.metric AS "Metric", LEAST(GREATEST(floor((m.value - m.min) / m.width), 0), m.bins - 1)::int AS "Bin", count(*)::int AS "Clips"
            FROM clips c
            CROSS JOIN LATERAL (VALUES
                ({snr.Metric}, (c.metrics->>'snrDb')::float8, {snr.Min}, {snr.Width}, {snr.Count}),
                ({level.Metric}, (c.metrics->>'rmsDbfs')::float8, {level.Min}, {level.Width}, {level.Count}),
                ({duration.Metric}, c.duration_ms / 1000.0::float8, {duration.Min}, {duration.Width}, {duration.Count}),
                ({speech.Metric}, (c.metrics->>'speechRatio')::float8, {speech.Min}, {speech.Width}, {speech.Count})
            ) AS m(metric, value, min, width, bins)
            WHERE c.job_id = {id} AND c.withdrawn_at IS NULL AND m.value IS NOT NULL
            GROUP BY 1, 2
            """).ToListAsync(ct);
        var histograms = bins.Select(b =>
        {
            var perBin = new int[b.Count];
            foreach (var row in counts.Where(r => r.Metric == b.Metric))
            {
                perBin[row.Bin] = row.Clips;
            }
            return new Histogram(b, perBin);
        }).ToList();

        var reasons = await db.Database.SqlQuery<ReasonRow>($"""
            SELECT issue AS "Code", count(*)::int AS "Takes" FROM take_outcomes t, unnest(t.issues) AS issue
            WHERE t.job_id = {id} GROUP BY issue ORDER BY count(*) DESC, issue
            """).ToListAsync(ct);

        var first = await db.Set<Recording.Takes.TakeOutcome>().Where(t => t.JobId == id).MinAsync(t => (DateTimeOffset?)t.JudgedAt, ct);
        var step = DashboardRules.PassRateStepFor(first, now);
        var from = now - DashboardRules.PassRateHistory(step);
        var unit = step == PassRateStep.Hour ? "hour" : "day";
        var points = await db.Database.SqlQuery<PassRateRow>($"""
            SELECT date_trunc({unit}, t.judged_at AT TIME ZONE 'UTC') AS "At", count(*)::int AS "Judged", count(*) FILTER (WHERE t.passed)::int AS "Passed"
            FROM take_outcomes t WHERE t.job_id = {id} AND t.judged_at >= {from}
            GROUP BY 1 ORDER BY 1
            """).ToListAsync(ct);
        return new QualityFigures(histograms, reasons.Select(r => (r.Code, r.Takes)).ToList(), step,
            points.Select(p => new PassRatePoint(new DateTimeOffset(DateTime.SpecifyKind(p.At, DateTimeKind.Utc)), p.Judged, p.Passed)).ToList());
    }

    private async Task<PeopleFigures> PeopleAsync(Guid jobId, CancellationToken ct)
    {
        // Accents are grouped without regard to case: "Beijing" and "beijing" are one group.
        var speakers = await db.Database.SqlQuery<SpeakerRow>($"""
            SELECT DISTINCT c.contributor_id AS "ContributorId", coalesce(p.language, '') AS "Language", coalesce(lower(p.accent), '') AS "Accent"
            FROM clips c LEFT JOIN speaker_profiles p ON p.contributor_id = c.contributor_id
            WHERE c.job_id = {jobId} AND c.withdrawn_at IS NULL
            """).ToListAsync(ct);
        var cells = speakers.Select(s => (Cell: GroupKey(s.Language, s.Accent), Person: s.ContributorId)).ToList();
        var published = CellSuppression.Publish(cells);
        var groups = cells.Where(c => published.Cells.Contains(c.Cell)).GroupBy(c => c.Cell)
            .Select(g =>
            {
                var (language, accent) = FromKey(g.Key);
                return new SpeakerGroup(language, accent, g.Select(c => c.Person).Distinct().Count());
            })
            .OrderByDescending(g => g.Speakers).ThenBy(g => g.Language, StringComparer.Ordinal).ThenBy(g => g.Accent, StringComparer.Ordinal).ToList();
        var count = speakers.Select(s => s.ContributorId).Distinct().Count();
        return new PeopleFigures(count, published.Whole, groups, published.Whole && groups.Sum(g => g.Speakers) < count);
    }

    private static string GroupKey(string language, string accent) => language + "\n" + SpeakerProfileRules.Normalise(accent);

    private static (string Language, string Accent) FromKey(string key) => (key[..key.IndexOf('\n')], key[(key.IndexOf('\n') + 1)..]);
}
