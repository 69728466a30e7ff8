using System.Diagnostics;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Notifications;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Features.Payouts.BankFile;
using Crowd.Server.Features.Payouts.Stripe;
using Crowd.Server.Features.Reviews;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Mail;
using Crowd.Server.Infrastructure.Scheduling;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Crowd.Benchmarks;

/// <summary>What a payout benchmark run settled, whether the ledger reconciled, and how long accrue + pay out + settle took.</summary>
public sealed record PayoutBenchmarkResult(int Settled, bool Reconciles, TimeSpan Elapsed);

/// <summary>Accrues a checkpoint for each of <c>contributors</c>, runs one payout and settles its bank batch, on a migrated database.</summary>
public static class PayoutBenchmark
{
    public static async Task<PayoutBenchmarkResult> RunAsync(string connectionString, int contributors, TextWriter output)
    {
        CrowdDb Open() => new(new DbContextOptionsBuilder<CrowdDb>().UseNpgsql(connectionString).Options);

        var time = TimeProvider.System;
        var options = Options.Create(new CrowdOptions { Payouts = new PayoutOptions { MinimumMinor = 100 }, PublicUrl = new Uri("https://crowd.example/") });
        var faults = new PayoutFaults(options, NullLogger<PayoutFaults>.Instance);
        var jobId = Guid.CreateVersion7();

        var total = Stopwatch.StartNew();
        var step = Stopwatch.StartNew();
        await using (var db = Open())
        {
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO organisations (id, name, kind, created_at) VALUES ({jobId}, 'Bench requester', 1, now());
                INSERT INTO users (id, display_name, date_of_birth, preferred_culture, created_at, user_name, email_confirmed, phone_number_confirmed,
                                   two_factor_enabled, lockout_enabled, access_failed_count)
                SELECT CASE WHEN i = 0 THEN {jobId} ELSE md5('bench-user-' || i)::uuid END, 'Contributor ' || i, '1995-01-01', 'zh-Hans', now(),
                       'bench' || i || '@example.test', false, false, false, false, 0
                FROM generate_series(0, {contributors}) AS i;
                INSERT INTO jobs (id, organisation_id, created_by_user_id, status, version, title, description, language, takes_per_prompt, clip_min_ms,
                                  clip_max_ms, min_snr_db, max_clipping_ratio, min_speech_ratio, environment_notes, hourly_rate_minor, currency, region,
                                  estimated_seconds_per_clip, buyer_name, purpose_speech_recognition, purpose_voice_cloning, retention_days, prompt_count,
                                  created_at, updated_at)
                VALUES ({jobId}, {jobId}, {jobId}, 1, 1, 'Bench job', '', 'zh-CN', 1, 1000, 15000, 15, 0.005, 0.3, '', 3000, 'CNY', 'CN-BJ', 20,
                        'Bench', true, false, 365, 0, now(), now());
                INSERT INTO payout_accounts (contributor_id, provider, payee_name, account_kind, account_number_last4, onboarded, updated_at)
                SELECT md5('bench-user-' || i)::uuid, 1, 'Contributor ' || i, 1, lpad((i % 10000)::text, 4, '0'), true, now()
                FROM generate_series(1, {contributors}) AS i;
                """);
            await LedgerWriter.PostAsync(db, LedgerPosting.Transfer(LedgerTransactionKind.EscrowFunded, "bench funding", "bench-funding",
                AccountRef.External("CNY"), AccountRef.Escrow(jobId, "CNY"), 10_000_000_000), time.GetUtcNow(), default);
        }
        output.WriteLine($"seed      {contributors:N0} contributors, 1 funded job: {step.Elapsed.TotalSeconds,6:F2} s (not counted)");

        var checkpoints = Enumerable.Range(1, contributors)
            .Select(i => new Checkpoint(Guid.CreateVersion7(), Md5Guid("bench-user-" + i), jobId, 600_000 + i % 3_000_000))
            .ToList();
        var measured = Stopwatch.StartNew();
        var rowsBefore = await RowsAsync();
        step.Restart();
        await using (var db = Open())
        {
            await EarningsAccrual.AccrueManyAsync(db, checkpoints, time);
        }
        Report(output, "accrue", contributors, step.Elapsed, rows: -rowsBefore + (rowsBefore = await RowsAsync()));

        step.Restart();
        PayoutRunResult run;
        await using (var db = Open())
        {
            var stripe = new StripeGateway(StripeGateway.CreateClient(options.Value.Stripe));
            run = await new PayoutRunner(db, options, time, faults, stripe, Notices(db), NullLogger<PayoutRunner>.Instance).RunAsync("bench-run");
        }
        Report(output, "payout run", run.Created, step.Elapsed, rows: -rowsBefore + (rowsBefore = await RowsAsync()));

        step.Restart();
        int settled;
        await using (var db = Open())
        {
            var numbers = new PayoutAccountNumbers(new Microsoft.AspNetCore.DataProtection.EphemeralDataProtectionProvider(), NullLogger<PayoutAccountNumbers>.Instance);
            var batches = new BankBatches(db, time, faults, numbers, Notices(db), NullLogger<BankBatches>.Instance);
            var batch = (await batches.ListAsync()).Single();
            await batches.MarkSentAsync(batch.Id, Guid.Empty);
            settled = await batches.ConfirmRemainingAsync(batch.Id);
        }
        Report(output, "settle", settled, step.Elapsed, rows: -rowsBefore + (rowsBefore = await RowsAsync()));
        measured.Stop();

        await using (var db = Open())
        {
            var trial = await LedgerQueries.TrialBalanceAsync(db);
            var negative = await LedgerQueries.NegativeContributorBalancesAsync(db);
            var paidOut = await LedgerQueries.BalanceAsync(db, AccountRef.PaidOut("CNY"));
            var accrued = await db.Set<EarningsAccrualRow>().SumAsync(a => a.AccruedMinor);
            var entries = await db.Set<LedgerEntry>().LongCountAsync();
            output.WriteLine($"check     sum per currency {string.Join(", ", trial.Select(t => $"{t.Key} {t.Value}"))}; negative contributor balances {negative.Count}; "
                + $"paid out {paidOut} of {accrued / 100m:N2} CNY accrued; {entries:N0} ledger entries");
            if (trial.Any(t => t.Value != 0) || negative.Count > 0 || paidOut.Minor != accrued || settled != contributors)
            {
                output.WriteLine("FAILED: the ledger does not reconcile");
                return new PayoutBenchmarkResult(settled, Reconciles: false, measured.Elapsed);
            }
        }
        output.WriteLine($"total     accrue + pay out + settle {contributors:N0} contributors: {measured.Elapsed.TotalSeconds:F2} s "
            + $"({contributors / measured.Elapsed.TotalSeconds:N0} contributors/s); wall clock with seeding {total.Elapsed.TotalSeconds:F2} s; target < 30 s");
        return new PayoutBenchmarkResult(settled, Reconciles: true, measured.Elapsed);

        // Each payee is told the payout was sent and paid, as in production: a notification and a mail each.
        PayoutNotices Notices(CrowdDb db)
        {
            var localizers = new ResourceManagerStringLocalizerFactory(Options.Create(new LocalizationOptions()), NullLoggerFactory.Instance);
            var texts = new NotificationTexts(new StringLocalizer<NotificationsText>(localizers), new StringLocalizer<ReviewsText>(localizers),
                new StringLocalizer<EscrowText>(localizers));
            // No SMTP server is configured, so mail is only stored and nothing is enqueued to send it.
            var jobs = new BackgroundJobs(new BackgroundJobClient(Crowd.Server.Infrastructure.Scheduling.Scheduling.CreateStorage(connectionString, options.Value.Scheduler)), db,
                NullLogger<BackgroundJobs>.Instance);
            var outbox = new Outbox(db, time, new MailDelivery(db, new SmtpTransport(options), jobs, time, options, NullLogger<MailDelivery>.Instance));
            return new PayoutNotices(db, new Notifications(db, outbox, texts, time, options));
        }

        // Rows written: rows inserted, plus the payout rows each later step updates.
        async Task<long> RowsAsync()
        {
            await using var db = Open();
            return await db.Database.SqlQuery<long>($"""
                SELECT (SELECT count(*) FROM ledger_entries) + (SELECT count(*) FROM ledger_transactions) + (SELECT count(*) FROM ledger_accounts)
                     + (SELECT count(*) FROM earnings_accruals) + (SELECT count(*) FROM payouts) + (SELECT count(*) FROM payouts WHERE state >= 2)
                     + (SELECT count(*) FROM payouts WHERE state = 3) AS "Value"
                """).SingleAsync();
        }

        static void Report(TextWriter output, string what, int count, TimeSpan elapsed, long rows) =>
            output.WriteLine($"{what,-10} {count:N0} in {elapsed.TotalSeconds,6:F2} s: {count / elapsed.TotalSeconds,8:N0} contributors/s, {rows:N0} rows written, {rows / elapsed.TotalSeconds,8:N0} rows/s");
    }

    private static Guid Md5Guid(string text)
    {
#pragma warning disable CA5351 // matches PostgreSQL's md5()::uuid for seeded ids; not security
        return Guid.Parse(Convert.ToHexString(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(text))));
#pragma warning restore CA5351
    }
}
