using System.Globalization;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Npgsql;

namespace Crowd.Server.Features.Jobs.Dashboard;

/// <summary>
/// Once a second, looks at the jobs watched on this node and pushes new figures to a job's viewers when anything behind
/// them changed. It reads the database, not this node's own events, so work recorded through any node shows on every
/// node's dashboards; one cheap query tells which jobs changed before any figures are computed.
/// </summary>
public sealed class DashboardBroadcaster(IServiceScopeFactory scopes, DashboardWatchers watchers, IHubContext<DashboardHub> hub,
    TimeProvider clock, ILogger<DashboardBroadcaster> logger) : BackgroundService
{
    public override void Dispose()
    {
        _round.Dispose();
        base.Dispose();
    }

    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private sealed record Fingerprint(Guid JobId, string Print);

    private readonly Dictionary<Guid, string> _sent = [];
    private readonly SemaphoreSlim _round = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await PushChangesAsync(stoppingToken);
                }
                catch (Exception e) when (e is NpgsqlException or DbUpdateException or InvalidOperationException or TimeoutException)
                {
                    logger.LogWarning(e, "Dashboard figures could not be pushed; trying again in a second");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Pushes the figures of every watched job whose data changed since its last push; returns how many jobs.</summary>
    public async Task<int> PushChangesAsync(CancellationToken ct)
    {
        await _round.WaitAsync(ct);
        try
        {
            return await PushAsync(ct);
        }
        finally
        {
            _round.Release();
        }
    }

    private async Task<int> PushAsync(CancellationToken ct)
    {
        var watched = watchers.Jobs();
        foreach (var gone in _sent.Keys.Where(j => !watched.ContainsKey(j)).ToList())
        {
            _sent.Remove(gone);
        }
        if (watched.Count == 0)
        {
            return 0;
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CrowdDb>();
        var dashboards = scope.ServiceProvider.GetRequiredService<JobDashboards>();
        var text = scope.ServiceProvider.GetRequiredService<IStringLocalizer<DashboardText>>();
        var pushed = 0;
        foreach (var print in await FingerprintsAsync(db, watched.Keys.ToArray(), ct))
        {
            if (_sent.TryGetValue(print.JobId, out var last) && last == print.Print)
            {
                continue;
            }
            var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == print.JobId, ct);
            var figures = await dashboards.FiguresAsync(job, ct);
            foreach (var culture in watched[print.JobId])
            {
                CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo(culture);
                await hub.Clients.Group(DashboardWatchers.Group(print.JobId, culture))
                    .SendAsync(DashboardHub.FiguresMessage, DashboardView.From(figures, text), ct);
            }
            _sent[print.JobId] = print.Print;
            pushed++;
        }
        return pushed;
    }

    /// <summary>A summary of everything the figures of each job are computed from; it changes whenever they may.</summary>
    private static Task<List<Fingerprint>> FingerprintsAsync(CrowdDb db, Guid[] jobIds, CancellationToken ct) =>
        db.Database.SqlQuery<Fingerprint>($"""
            SELECT j.id AS "JobId", concat_ws('|', j.updated_at, j.status,
                (SELECT count(*) FROM take_outcomes t WHERE t.job_id = j.id),
                (SELECT count(*) || ':' || coalesce(max(greatest(c.created_at, c.reviewed_at, c.withdrawn_at))::text, '') FROM clips c WHERE c.job_id = j.id),
                (SELECT coalesce(sum(a.active_ms_total), 0) || ':' || coalesce(max(a.updated_at)::text, '') FROM earnings_accruals a WHERE a.job_id = j.id),
                (SELECT count(*) FROM ledger_entries e
                 WHERE e.account_id IN (ledger_account_id({(int)LedgerAccountKind.Escrow}, j.id, j.currency),
                                        ledger_account_id({(int)LedgerAccountKind.PlatformAdvance}, j.id, j.currency))),
                (SELECT b.updated_at FROM job_budgets b WHERE b.job_id = j.id),
                (SELECT count(*) || ':' || coalesce(max(p.updated_at)::text, '') FROM speaker_profiles p
                 WHERE p.contributor_id IN (SELECT c.contributor_id FROM clips c WHERE c.job_id = j.id))) AS "Print"
            FROM jobs j WHERE j.id = ANY({jobIds})
            """).ToListAsync(ct);
}
