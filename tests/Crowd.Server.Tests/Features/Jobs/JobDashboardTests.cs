using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crowd.Audio.Quality;
using Crowd.Server.Features.Accounts.Speech;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Jobs.Dashboard;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Takes;
using Crowd.Server.Features.Reviews;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Features.Reviews;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.Jobs;

public sealed class JobDashboardTests(RecordingApp app) : IClassFixture<RecordingApp>
{
    private sealed record LedgerFigures(long SpentMinor, long EscrowNetMinor);

    [Fact]
    public async Task TheDashboardsFiguresEqualTheLedgerAndTheClipsTables()
    {
        var job = await ReviewTestData.JobAsync(app, prompts: 12);
        var speakers = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            speakers.Add((await RecordingTestData.ContributorAsync(app, job.Job)).Id);
        }
        // Five say Beijing (in two spellings), two Sichuan, three say nothing: only the Beijing group may be shown.
        await ProfilesAsync(speakers.Take(5).Select((s, i) => (s, "zh-CN", i % 2 == 0 ? "Beijing" : "beijing  ")));
        await ProfilesAsync(speakers.Skip(5).Take(2).Select(s => (s, "zh-CN", "Sichuan")));
        var clips = new List<Guid>();
        for (var i = 0; i < 10; i++)
        {
            clips.Add(await ReviewTestData.ClipAsync(app, job, speakers[i], prompt: i, durationMs: 1_500 + 1_000 * i, sessionActiveMs: 60_000 + 1_000 * i));
        }
        var second = await ReviewTestData.ClipAsync(app, job, speakers[0], prompt: 10, durationMs: 4_000, sessionActiveMs: 30_000);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var reviews = scope.ServiceProvider.GetRequiredService<ReviewService>();
            foreach (var clip in clips.Take(4))
            {
                (await reviews.AcceptAsync(job.OrganisationId, job.Requester.Id, clip, default)).Kind.ShouldBe(ReviewOutcomeKind.Ok);
            }
            (await reviews.RejectAsync(job.OrganisationId, job.Requester.Id, clips[4], "silence", "Nothing but silence.", default)).Kind.ShouldBe(ReviewOutcomeKind.Ok);
            (await reviews.RejectAsync(job.OrganisationId, job.Requester.Id, clips[5], "duplicate", "Same take as before.", default)).Kind.ShouldBe(ReviewOutcomeKind.Ok);
        }
        await app.WithDbAsync(db => db.Clips.Where(c => c.Id == second).ExecuteUpdateAsync(s => s.SetProperty(c => c.WithdrawnAt, DateTimeOffset.UtcNow)));
        await TakesAsync(job, speakers[0], clips.Append(second), failed: [[QualityIssue.TooQuiet], [QualityIssue.TooQuiet], [QualityIssue.TooQuiet],
            [QualityIssue.Clipping, QualityIssue.TooNoisy]]);

        var figures = (await FiguresAsync(job))!;

        var rows = await app.WithDbAsync(db => db.Clips.AsNoTracking().Where(c => c.JobId == job.Job.Id).ToListAsync());
        var kept = rows.Where(c => c.WithdrawnAt == null).ToList();
        figures.Progress.ShouldBe(new ProgressFigures(12, kept.Select(c => c.PromptId).Distinct().Count(), 12, rows.Count + 4, rows.Count, rows.Count,
            kept.Count(c => c.ReviewStatus == ClipReview.Waiting), kept.Count(c => c.ReviewStatus == ClipReview.Accepted),
            kept.Count(c => c.ReviewStatus == ClipReview.Rejected), rows.Count(c => c.WithdrawnAt != null)));
        (figures.Progress.Waiting, figures.Progress.Accepted, figures.Progress.Rejected, figures.Progress.Withdrawn).ShouldBe((4, 4, 2, 1));

        var ledger = await LedgerFiguresAsync(job.Job.Id);
        figures.Money.Spent.Minor.ShouldBe(ledger.SpentMinor);
        figures.Money.Escrow.Minor.ShouldBe(ledger.EscrowNetMinor);
        var budget = await app.WithDbAsync(db => db.Set<JobBudget>().AsNoTracking().SingleAsync(b => b.JobId == job.Job.Id));
        figures.Money.Budget.Minor.ShouldBe(BudgetRules.BudgetMinor(budget.TargetHours, ReviewTestData.RateMinor, budget.PlatformFeeBp, budget.SupplierFeeBp));
        var accruals = await app.WithDbAsync(db => db.Set<Crowd.Server.Features.Earnings.EarningsAccrualRow>().Where(a => a.JobId == job.Job.Id).ToListAsync());
        figures.Money.ActiveMs.ShouldBe(accruals.Sum(a => a.ActiveMsTotal));
        figures.Money.ActiveMs.ShouldBe(10 * 60_000 + 45_000 + 30_000);
        figures.Money.TakenBack.Minor.ShouldBe(0);
        figures.Pay.Accrued.Minor.ShouldBe(accruals.Sum(a => a.AccruedMinor));
        figures.Pay.Effective!.Value.Minor.ShouldBe(ReviewTestData.RateMinor);
        figures.Pay.Floor!.Value.Minor.ShouldBe(2_770);

        var snr = figures.Quality.Histograms.Single(h => h.Bins.Metric == "snr");
        snr.Counts.Sum().ShouldBe(kept.Count);
        snr.Counts[DashboardRules.Snr.BinOf(31.2)].ShouldBe(kept.Count);
        var duration = figures.Quality.Histograms.Single(h => h.Bins.Metric == "duration");
        duration.Counts.ShouldBe(Enumerable.Range(0, duration.Bins.Count)
            .Select(bin => kept.Count(c => duration.Bins.BinOf(c.DurationMs / 1000.0) == bin)).ToArray());
        figures.Quality.FailureReasons.ShouldBe([("too_quiet", 3), ("clipping", 1), ("too_noisy", 1)]);
        figures.Quality.PassRate.Sum(p => p.Judged).ShouldBe(rows.Count + 4);
        figures.Quality.PassRate.Sum(p => p.Passed).ShouldBe(rows.Count);

        figures.People.Speakers.ShouldBe(10);
        figures.People.SpeakersShown.ShouldBeTrue();
        figures.People.Groups.ShouldBe([new SpeakerGroup("zh-CN", "beijing", 5)]);
        figures.People.SomeHidden.ShouldBeTrue();

        var requester = await app.SignedInClientAsync(job.Requester.Email!);
        var view = (await requester.GetFromJsonAsync<JsonObject>($"/api/jobs/{job.Job.Id}/dashboard"))!;
        ((string)view["texts"]!["spend"]!).ShouldBe($"{Format(ledger.SpentMinor)} of {Format(figures.Money.Budget.Minor)}");
        ((string)view["texts"]!["clips"]!).ShouldBe("11");
        ((string)view["texts"]!["speakers"]!).ShouldBe("10");
        ((string)view["speakerGroups"]![0]!["label"]!).ShouldBe("zh-CN · beijing");
        var html = WebUtility.HtmlDecode(await requester.GetStringAsync($"/Jobs/{job.Job.Id}"));
        html.ShouldContain("data-testid=\"figure-hours\">0.19 hours (0:11:15)<");
        html.ShouldContain("data-testid=\"figure-withdrawn\">1<");
        html.ShouldContain("<tr data-value=\"3\"><th scope=\"row\">Too quiet</th><td>3</td></tr>");
        html.ShouldContain("Groups of fewer than 5 speakers are not shown");
    }

    [Fact]
    public async Task BelowFiveSpeakersNeitherTheirNumberNorTheirLanguagesAreShown()
    {
        var job = await ReviewTestData.JobAsync(app, prompts: 4);
        for (var i = 0; i < 4; i++)
        {
            var speaker = await RecordingTestData.ContributorAsync(app, job.Job);
            await ProfilesAsync([(speaker.Id, "zh-CN", "Beijing")]);
            await ReviewTestData.ClipAsync(app, job, speaker.Id, prompt: i);
        }

        var figures = (await FiguresAsync(job))!;
        var requester = await app.SignedInClientAsync(job.Requester.Email!);
        var html = WebUtility.HtmlDecode(await requester.GetStringAsync($"/Jobs/{job.Job.Id}"));
        var zh = new HttpRequestMessage(HttpMethod.Get, $"/Jobs/{job.Job.Id}");
        zh.Headers.AcceptLanguage.ParseAdd("zh-CN");
        var chinese = WebUtility.HtmlDecode(await (await requester.SendAsync(zh)).Content.ReadAsStringAsync());

        figures.People.SpeakersShown.ShouldBeFalse();
        figures.People.Groups.ShouldBeEmpty();
        html.ShouldContain("data-testid=\"figure-speakers\">fewer than 5<");
        html.ShouldContain("Speakers' languages and accents are shown once at least 5 people have recorded.");
        html.ShouldNotContain("Beijing");
        chinese.ShouldContain("data-testid=\"figure-speakers\">少于 5<");
    }

    [Fact]
    public async Task AnotherOrganisationsDashboardIsNotFoundAndItsLiveFiguresAreRefusedAtTheHub()
    {
        var job = await ReviewTestData.JobAsync(app);
        var stranger = await app.RequesterAsync();

        (await stranger.Client.GetAsync($"/Jobs/{job.Job.Id}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await stranger.Client.GetAsync($"/api/jobs/{job.Job.Id}/dashboard")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        await using var hub = await HubAsync(stranger.User.Email!);
        var refused = await Should.ThrowAsync<HubErrorException>(() => hub.InvokeAsync("Watch", job.Job.Id));
        refused.Message.ShouldContain("Your organisation has no job with this id");

        await ReviewTestData.ClipAsync(app, job, (await RecordingTestData.ContributorAsync(app, job.Job)).Id);
        (await app.Services.GetRequiredService<DashboardBroadcaster>().PushChangesAsync(default)).ShouldBe(0);
        hub.Drain(DashboardHub.FiguresMessage).ShouldBeEmpty();
    }

    [Fact]
    public async Task AWatcherIsSentNewFiguresWhenAClipArrivesWithoutAsking()
    {
        var job = await ReviewTestData.JobAsync(app);
        await using var hub = await HubAsync(job.Requester.Email!);
        var first = (await hub.InvokeAsync("Watch", job.Job.Id))!;
        ((string)first["texts"]!["clips"]!).ShouldBe("0");

        await ReviewTestData.ClipAsync(app, job, (await RecordingTestData.ContributorAsync(app, job.Job)).Id);

        // The clip and its session's accrual are written one after the other: a push may fall between them (or come
        // before both), and the next push carries the rest. Nothing is asked for: every figure below was pushed.
        var texts = new List<(string Clips, string Hours)>();
        var until = DateTimeOffset.UtcNow.AddSeconds(30);
        while (texts.LastOrDefault() != ("1", "0.02 hours (0:01:00)") && DateTimeOffset.UtcNow < until)
        {
            var pushed = await hub.NextAsync(DashboardHub.FiguresMessage, TimeSpan.FromSeconds(20));
            texts.Add(((string)pushed[0]!["texts"]!["clips"]!, (string)pushed[0]!["texts"]!["hours"]!));
        }
        texts.Last().ShouldBe(("1", "0.02 hours (0:01:00)"));
        texts.Count.ShouldBeLessThanOrEqualTo(3, "a push goes out only when the figures changed");
    }

    private Task<DashboardFigures?> FiguresAsync(ReviewJob job) => app.WithDbAsync(async db =>
        await new JobDashboards(db, TimeProvider.System).FiguresAsync(job.OrganisationId, job.Job.Id, default));

    private Task ProfilesAsync(IEnumerable<(Guid Speaker, string Language, string Accent)> profiles) => app.WithDbAsync(async db =>
    {
        foreach (var (speaker, language, accent) in profiles)
        {
            db.Add(new SpeakerProfile { ContributorId = speaker, Language = language, Accent = accent, UpdatedAt = DateTimeOffset.UtcNow });
        }
        await db.SaveChangesAsync();
    });

    /// <summary>A passed take for each clip, and the failed takes given, as the live check records them.</summary>
    private Task TakesAsync(ReviewJob job, Guid speaker, IEnumerable<Guid> clips, QualityIssue[][] failed) => app.WithDbAsync(async db =>
    {
        foreach (var clip in await db.Clips.AsNoTracking().Where(c => clips.Contains(c.Id)).ToListAsync())
        {
            await TakeOutcomes.RecordAsync(db, clip.TakeId, clip.JobId, clip.SessionId, clip.ContributorId, new Verdict([]), clip.CreatedAt, default);
        }
        var session = await db.Clips.Where(c => c.JobId == job.Job.Id).Select(c => c.SessionId).FirstAsync();
        foreach (var issues in failed)
        {
            await TakeOutcomes.RecordAsync(db, Guid.CreateVersion7(), job.Job.Id, session, speaker,
                new Verdict(issues.Select(VerdictReason.For).ToList()), DateTimeOffset.UtcNow, default);
        }
    });

    /// <summary>What the ledger itself says: accruals out of the job's escrow and advance, and what both hold now.</summary>
    private Task<LedgerFigures> LedgerFiguresAsync(Guid jobId) => app.WithDbAsync(async db => (await db.Database.SqlQuery<LedgerFigures>($"""
        SELECT coalesce(-sum(e.amount_minor) FILTER (WHERE t.kind = {(int)LedgerTransactionKind.Accrual}), 0)::bigint AS "SpentMinor",
               coalesce(sum(e.amount_minor), 0)::bigint AS "EscrowNetMinor"
        FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
        JOIN ledger_accounts a ON a.id = e.account_id
        WHERE a.owner_id = {jobId} AND a.kind IN ({(int)LedgerAccountKind.Escrow}, {(int)LedgerAccountKind.PlatformAdvance})
        """).ToListAsync()).Single());

    private async Task<SignalRJsonClient> HubAsync(string email)
    {
        var http = app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, AllowAutoRedirect = false });
        var response = await http.PostAsJsonAsync("/api/accounts/signin", new { email, password = TestAccounts.Password });
        response.EnsureSuccessStatusCode();
        var cookie = string.Join("; ", response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
        var ws = app.Server.CreateWebSocketClient();
        ws.ConfigureRequest = r => r.Headers.Cookie = cookie;
        return await SignalRJsonClient.ConnectAsync(await ws.ConnectAsync(new Uri("ws://localhost" + DashboardHub.Path), default));
    }

    private static string Format(long minor) => Crowd.Server.Infrastructure.Money.Currencies.Format(new(minor, "CNY"));
}
