using System.Diagnostics;
using System.Globalization;
using Crowd.Server.Features.DeletionNotices;
using Crowd.Server.Features.Exports.Datasets;
using Crowd.Server.Features.Withdrawal;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Scheduling;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crowd.Benchmarks;

/// <summary>How many clips were withdrawn and became unreadable, and the time each took from the request to unreadable.</summary>
public sealed record WithdrawalBenchmarkResult(int Unreadable, double FirstMs, double MedianMs, double P95Ms, double MaxMs);

/// <summary>
/// Generated clips, all exported to a buyer, are withdrawn one by one by their speaker: each withdrawal destroys the
/// clip's key, writes the buyer's deletion notice and deletes the file. Timed from the withdrawal to the moment the
/// audio can no longer be read.
/// </summary>
public static class WithdrawalBenchmark
{
    public static async Task<WithdrawalBenchmarkResult> RunAsync(string connectionString, string workDirectory, int clips, TextWriter output)
    {
        var store = new BenchClipStore(connectionString, workDirectory);
        var clock = TimeProvider.System;
        var scheduler = Crowd.Server.Infrastructure.Scheduling.Scheduling.CreateStorage(connectionString, new CrowdOptions().Scheduler);
        var (organisationId, userId, jobId) = await ExportBenchmark.SeedAsync(connectionString, store.Vault, clips, clipSeconds: 3);
        await using (var db = store.Open())
        {
            var exported = await store.Exporter(db).CreateAsync(new ExportCaller(organisationId, userId, null), jobId, DatasetUse.SpeechRecognition, default);
            if (exported.Export is null)
            {
                throw new InvalidOperationException($"The export was not created: {exported.Kind}");
            }
        }
        List<(Guid Clip, Guid Speaker)> seeded;
        await using (var db = store.Open())
        {
            seeded = (await db.Clips.Where(c => c.JobId == jobId).OrderBy(c => c.Id).Select(c => new { c.Id, c.ContributorId }).ToListAsync())
                .Select(c => (c.Id, c.ContributorId)).ToList();
        }

        var times = new List<double>();
        foreach (var (clipId, speaker) in seeded)
        {
            var watch = Stopwatch.StartNew();
            await using var db = store.Open();
            var audit = store.Audit(db);
            var jobs = new BackgroundJobs(new BackgroundJobClient(scheduler), db, NullLogger<BackgroundJobs>.Instance);
            var withdrawals = new WithdrawalService(db, audit, new ClipDestruction(db, audit, new DeletionNoticeWriter(db, audit, jobs, clock), clock),
                new ClipFiles(db, store.Vault, audit, clock, NullLogger<ClipFiles>.Instance), clock);
            var result = await withdrawals.WithdrawClipAsync(speaker, clipId, default);
            var audio = await store.Vault.ReadAsync(await db.Clips.AsNoTracking().SingleAsync(c => c.Id == clipId), default);
            if (result.Outcome != WithdrawalOutcome.Withdrawn || result.NoticesSent < 1 || audio is not null)
            {
                throw new InvalidOperationException($"Clip {clipId} was not withdrawn with one notice and made unreadable ({result}).");
            }
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        var warm = times.Skip(1).Order().ToList();
        var figures = new WithdrawalBenchmarkResult(times.Count, times[0], warm[warm.Count / 2], warm[(int)(warm.Count * 0.95)], warm[^1]);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"withdrawal to unreadable over {warm.Count} clips (each exported, so each sends a deletion notice): median {figures.MedianMs:0.0} ms, " +
            $"p95 {figures.P95Ms:0.0} ms, max {figures.MaxMs:0.0} ms; first (cold) {figures.FirstMs:0.0} ms"));
        return figures;
    }
}
