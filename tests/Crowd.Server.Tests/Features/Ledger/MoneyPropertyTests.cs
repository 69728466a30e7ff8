using System.Globalization;
using System.Numerics;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Features.Payouts;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Crowd.Server.Tests.Features.Ledger;

/// <summary>
/// Randomized money: the budget, accrual, funding and payout paths driven with extreme values (zero, one, the limits and
/// one past them, 2^62, long.MaxValue, negative figures) and ordinary ones. Every result is compared with exact
/// (BigInteger) arithmetic: it is either that exact value or a refusal, never a wrapped figure; every ledger transaction
/// sums to zero and no account that holds money goes below zero.
/// A seeded System.Random rather than FsCheck: the generator is a dozen lines aimed at the boundaries that matter here, the
/// database part needs async steps in one order, and the existing randomized money test works the same way. The seed is
/// printed; CROWD_MONEY_SEED=n replays a run exactly.
/// </summary>
public sealed class MoneyPropertyTests(ITestOutputHelper output)
{
    private const int PureCases = 25_000;
    private const int DatabaseOperations = 400;

    private static int Seed()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("CROWD_MONEY_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)
            ? s
            : Environment.TickCount;
        return seed;
    }

    /// <summary>Values aimed at the boundaries: the limits and their neighbours, powers of two, the ends of long, and noise.</summary>
    private sealed class Extremes(Random random)
    {
        private static readonly long[] s_edges =
        [
            0, 1, 2, 99, 100, 2_770, 3_000, 277_000, 1_000_000, 3_600_000, 100_000_000, 999_999_999_999_999,
            1_000_000_000_000_000_000, 1L << 31, 1L << 62, long.MaxValue, long.MinValue, int.MaxValue, uint.MaxValue,
        ];

        public long Long() => random.Next(7) switch
        {
            0 => s_edges[random.Next(s_edges.Length)],
            1 => Saturated((BigInteger)s_edges[random.Next(s_edges.Length)] + random.Next(-2, 3)),
            2 => -s_edges[random.Next(s_edges.Length)],
            3 => random.NextInt64(0, 10_000),
            4 => random.NextInt64(0, 100_000_000),
            5 => random.NextInt64(long.MinValue, long.MaxValue),
            _ => Saturated(BigInteger.One << random.Next(64)),
        };

        public long NonNegative()
        {
            var value = Long();
            return value == long.MinValue ? 0 : Math.Abs(value);
        }

        public int Int() => random.Next(5) switch
        {
            0 => (int)Math.Clamp(Long(), int.MinValue, int.MaxValue),
            1 => random.Next(0, 10_001),
            2 => random.Next(0, 100_002),
            3 => new[] { 0, 1, -1, 5_000, 10_000, 10_001, 100_000, 100_001, int.MaxValue, int.MinValue }[random.Next(10)],
            _ => random.Next(int.MinValue, int.MaxValue),
        };

        private static long Saturated(BigInteger value) => (long)BigInteger.Clamp(value, long.MinValue, long.MaxValue);
    }

    private static BigInteger CeilDiv(BigInteger numerator, BigInteger denominator) =>
        BigInteger.DivRem(numerator, denominator, out var remainder) + (remainder > 0 ? 1 : 0);

    private static bool FitsLong(BigInteger value) => value >= long.MinValue && value <= long.MaxValue;

    [Fact]
    public void PureMoneyRulesNeverWrapOverTwentyFiveThousandGeneratedCases()
    {
        var seed = Seed();
        output.WriteLine($"seed {seed} (CROWD_MONEY_SEED={seed} replays it)");
        var random = new Random(seed);
        var x = new Extremes(random);
        var floor = new RateFloor { Region = "CN-BJ", Currency = "CNY", RegionName = "Beijing", LegalMinimumMinor = 2770, MarketReferenceMinor = 2500 };
        var refused = 0;
        for (var i = 0; i < PureCases; i++)
        {
            try
            {
                refused += PureCase(x, random, floor);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InvalidOperationException($"case {i} of seed {seed} (replay with CROWD_MONEY_SEED={seed}): {e.Message}", e);
            }
        }
        output.WriteLine($"{PureCases} cases, {refused} refusals of an out-of-range figure");
        refused.ShouldBeGreaterThan(PureCases / 10, "the generator reaches past the limits often");
        refused.ShouldBeLessThan(PureCases * 9, "and inside them often");
    }

    /// <summary>One generated case through every pure money rule; returns how many of its figures were refused.</summary>
    private static int PureCase(Extremes x, Random random, RateFloor floor)
    {
        var refused = 0;

        // Pay for time: exact ceil(ms × rate / 3,600,000), or refused naming the rate.
        var (ms, rate) = (x.Long(), x.Long());
        var pay = CeilDiv((BigInteger)ms * rate, PayCalculator.MsPerHour);
        if (FitsLong(pay))
        {
            PayCalculator.PayForActiveTime(ms, rate).ShouldBe((long)pay);
        }
        else
        {
            Should.Throw<AmountOutOfRangeException>(() => PayCalculator.PayForActiveTime(ms, rate)).Field.ShouldBe("hourlyRate");
            refused++;
        }

        // A fee on pay.
        var (payMinor, bp) = (x.Long(), x.Int());
        var fee = CeilDiv((BigInteger)payMinor * bp, PayCalculator.BasisPoints);
        if (FitsLong(fee))
        {
            PayCalculator.Fee(payMinor, bp).ShouldBe((long)fee);
        }
        else
        {
            Should.Throw<AmountOutOfRangeException>(() => PayCalculator.Fee(payMinor, bp)).Field.ShouldBe("fees");
            refused++;
        }

        // A budget: exact, or null once it reaches 10^15 (or is negative); never a small figure from a wrapped product.
        var (hours, platformBp, supplierBp) = (x.Int(), random.Next(2) == 0 ? x.Int() : random.Next(0, 10_001), random.Next(2) == 0 ? x.Int() : random.Next(0, 5_001));
        var budgetPay = CeilDiv((BigInteger)hours * PayCalculator.MsPerHour * rate, PayCalculator.MsPerHour);
        var budget = budgetPay + CeilDiv(budgetPay * platformBp, PayCalculator.BasisPoints) + CeilDiv(budgetPay * supplierBp, PayCalculator.BasisPoints);
        var computed = BudgetRules.TryBudgetMinor(hours, rate, platformBp, supplierBp);
        if (budget >= 0 && budget <= BudgetRules.MaxBudgetMinor)
        {
            computed.ShouldBe((long)budget);
        }
        else
        {
            computed.ShouldBeNull();
            Should.Throw<AmountOutOfRangeException>(() => BudgetRules.BudgetMinor(hours, rate, platformBp, supplierBp));
            refused++;
        }

        // Any job the rules accept, with any budget they accept, has a budget under 10^15.
        var terms = JobTerms.Defaults.With(JobsTestData.ValidJob(rateMinor: rate));
        var rateAccepted = !JobRules.Validate(terms).Any(e => e.Field == "hourlyRate");
        rateAccepted.ShouldBe(rate is > 0 and <= JobRules.MaxHourlyRateMinor);
        if (rateAccepted && BudgetRules.Validate(hours, platformBp, supplierBp).Count == 0 && JobRules.ValidateSupplierFee(supplierBp, 0, hours, false).Count == 0)
        {
            BudgetRules.TryBudgetMinor(hours, rate, platformBp, supplierBp).ShouldNotBeNull();
        }
        else
        {
            refused++;
        }
        PayFloor.IsUnderCeiling(new Money(rate, "CNY"), floor).ShouldBe(rate <= 277_000);

        // Escrow: a draw never takes more than is held, a receipt repays the advance first, and nothing is lost or made.
        var balance = new EscrowBalance(x.NonNegative() % (EscrowRules.MaxEscrowMinor + 1), x.NonNegative() % (EscrowRules.MaxAdvanceMinor + 1));
        var cost = x.NonNegative();
        var (fromEscrow, advanced) = EscrowRules.Draw(balance, cost);
        (fromEscrow + (BigInteger)advanced).ShouldBe((BigInteger)cost);
        fromEscrow.ShouldBeInRange(0, balance.HeldMinor);
        advanced.ShouldBeGreaterThanOrEqualTo(0);
        var amount = x.Long();
        var fundingErrors = EscrowRules.ValidateFunding(amount, "CNY", balance);
        if (amount > 0)
        {
            var (repaid, held) = EscrowRules.Receive(balance, amount);
            (repaid + (BigInteger)held).ShouldBe((BigInteger)amount);
            repaid.ShouldBeInRange(0, balance.AdvancedMinor);
            (fundingErrors.Count == 0).ShouldBe(amount <= EscrowRules.MaxEscrowMinor && (BigInteger)balance.HeldMinor + held <= EscrowRules.MaxEscrowMinor);
        }
        else
        {
            fundingErrors.ShouldHaveSingleItem().Field.ShouldBe("amount");
        }
        refused += fundingErrors.Count;
        var (released, refunded) = EscrowRules.Release(balance);
        (released + refunded).ShouldBe(balance.HeldMinor);

        // A ledger posting is accepted exactly when every entry is non-zero and within bounds and each currency sums to zero.
        var lines = Enumerable.Range(0, random.Next(1, 5)).Select(_ => new LedgerLine(AccountRef.PlatformFee(random.Next(3) == 0 ? "USD" : "CNY"), x.Long())).ToList();
        if (random.Next(2) == 0)
        {
            foreach (var group in lines.GroupBy(l => l.Account.Currency).ToList())
            {
                var sum = group.Aggregate(BigInteger.Zero, (s, l) => s + l.AmountMinor);
                if (FitsLong(-sum) && -sum != 0)
                {
                    lines.Add(new LedgerLine(group.Key == "USD" ? AccountRef.External("USD") : AccountRef.External("CNY"), (long)-sum));
                }
            }
        }
        var posting = new LedgerPosting(Guid.NewGuid(), LedgerTransactionKind.Correction, "generated", "generated", lines);
        var sound = lines.Count >= 2 && lines.All(l => l.AmountMinor != 0 && Math.Abs((decimal)l.AmountMinor) <= LedgerRules.MaxEntryMinor)
            && lines.GroupBy(l => l.Account.Currency).All(g => g.Aggregate(BigInteger.Zero, (s, l) => s + l.AmountMinor).IsZero);
        (LedgerRules.Problems(posting).Count == 0).ShouldBe(sound);

        // Amounts typed in major units: read exactly or refused, never an exception.
        var major = random.Next(3) switch
        {
            0 => (x.Long() / 100m).ToString(CultureInfo.InvariantCulture),
            1 => decimal.MaxValue.ToString(CultureInfo.InvariantCulture),
            _ => ((decimal)x.Long() * 1000 + random.Next(100) / 100m).ToString(CultureInfo.InvariantCulture),
        };
        var parsed = Currencies.ParseMajor(major, "CNY");
        var exact = BigInteger.Parse(major.Replace(".", "", StringComparison.Ordinal), CultureInfo.InvariantCulture)
            * BigInteger.Pow(10, 2 - (major.Contains('.', StringComparison.Ordinal) ? major.Length - major.IndexOf('.', StringComparison.Ordinal) - 1 : 0));
        var whole = !major.Contains('.', StringComparison.Ordinal) || major.Length - major.IndexOf('.', StringComparison.Ordinal) - 1 <= 2;
        parsed.ShouldBe(whole && FitsLong(exact) ? (long)exact : null, major);
        refused += parsed is null ? 1 : 0;

        // A session's cumulative accruals never wrap: each total is the exact pay for the time so far.
        var totals = new AccrualTotals(0, 0, 0, 0);
        var sessionRate = random.Next(2) == 0 ? x.Long() : random.NextInt64(1, JobRules.MaxHourlyRateMinor + 1);
        var active = 0L;
        for (var step = 0; step < 3; step++)
        {
            active = (long)BigInteger.Clamp((BigInteger)active + x.NonNegative() % (step == 2 ? long.MaxValue : 100_000_000), 0, long.MaxValue);
            var exactPay = CeilDiv((BigInteger)active * sessionRate, PayCalculator.MsPerHour);
            if (!FitsLong(exactPay))
            {
                Should.Throw<AmountOutOfRangeException>(() => PayCalculator.Advance(totals, active, sessionRate, 1000, 500));
                refused++;
                break;
            }
            var next = PayCalculator.Advance(totals, active, sessionRate, 1000, 500);
            if (next is null)
            {
                active.ShouldBeLessThanOrEqualTo(totals.ActiveMs);
                continue;
            }
            next.AccruedMinor.ShouldBe((long)exactPay);
            totals = next;
        }
        return refused;
    }

    [Fact]
    public async Task OnTheDatabaseFundingsAccrualsPayoutsAndRefundsWithExtremeValuesNeverWrapNeverUnbalanceAndNeverGoNegative()
    {
        var seed = Seed();
        output.WriteLine($"seed {seed} (CROWD_MONEY_SEED={seed} replays it)");
        try
        {
            var cases = await RunDatabaseAsync(seed);
            output.WriteLine($"{cases.Total} generated cases on PostgreSQL: {cases.Checkpoints} checkpoints in {cases.AccrualCalls} accrual calls "
                + $"({cases.RefusedAccrualCalls} refused whole), {cases.Fundings} fundings ({cases.RefusedFundings} refused), {cases.Budgets} budgets "
                + $"({cases.RefusedBudgets} refused), {cases.Jobs} proposed rates ({cases.RefusedRates} refused), {cases.PayoutRuns} payout runs, "
                + $"{cases.Closes} closes; the platform advanced pay on {cases.JobsWithAdvance} jobs; accrual refusals: "
                + string.Join(", ", cases.Refusals.Select(r => $"{r.Value} {r.Key}")));
            cases.RefusedAccrualCalls.ShouldBeGreaterThan(0, "some checkpoints go past what can be paid");
            cases.RefusedFundings.ShouldBeGreaterThan(0, "some fundings go past the maximum");
            (cases.AccrualCalls - cases.RefusedAccrualCalls).ShouldBeGreaterThan(cases.AccrualCalls / 2, "most accrual calls go through");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException($"seed {seed} (replay with CROWD_MONEY_SEED={seed}): {e.Message}", e);
        }
    }

    private sealed class Counts
    {
        public int Jobs, RefusedRates, Budgets, RefusedBudgets, Fundings, RefusedFundings, AccrualCalls, RefusedAccrualCalls, Checkpoints, PayoutRuns, Closes,
            JobsWithAdvance;

        public Dictionary<string, int> Refusals { get; } = [];

        public int Total => Jobs + Budgets + Fundings + Checkpoints + PayoutRuns + Closes;
    }

    private static async Task<Counts> RunDatabaseAsync(int seed)
    {
        var random = new Random(seed);
        var x = new Extremes(random);
        var connectionString = await TestPostgres.CreateDatabaseAsync();
        var time = new FakeTimeProvider(MoneyWorld.ClockStart);
        var harness = new PayoutHarness(connectionString, time);
        var counts = new Counts();
        await using var db = MoneyWorld.Open(connectionString);
        var escrow = new EscrowService(db, time, NullLogger<EscrowService>.Instance);
        var admin = await MoneyWorld.UserAsync(db, "Admin");
        var org = await MoneyWorld.RequesterAsync(db);

        // Jobs whose rates the rules accept; every refused rate is refused by the database too.
        var jobs = new List<Guid>();
        while (jobs.Count < 8)
        {
            var rate = jobs.Count < 2 ? JobRules.MaxHourlyRateMinor - jobs.Count : random.Next(2) == 0 ? x.Long() : random.NextInt64(1, 50_000);
            counts.Jobs++;
            if (JobRules.Validate(JobTerms.Defaults.With(JobsTestData.ValidJob(rateMinor: rate))).Count == 0)
            {
                jobs.Add((await MoneyWorld.JobAsync(db, rate, organisationId: org)).Id);
                continue;
            }
            counts.RefusedRates++;
            await using var other = MoneyWorld.Open(connectionString);
            await Should.ThrowAsync<DbUpdateException>(() => MoneyWorld.JobAsync(other, rate, organisationId: org));
        }
        foreach (var job in jobs)
        {
            for (var attempt = 0; attempt < 4; attempt++)
            {
                counts.Budgets++;
                var hours = attempt == 3 ? random.Next(1, 1_000) : x.Int();
                var platform = random.Next(3) == 0 ? x.Int() : random.Next(0, 10_001);
                var errors = await escrow.SetBudgetAsync(job, hours, platform, random.Next(0, 5_001));
                if (errors.Count > 0)
                {
                    counts.RefusedBudgets++;
                    db.ChangeTracker.Clear();
                }
            }
        }
        var contributors = new List<Guid>();
        for (var i = 0; i < 6; i++)
        {
            contributors.Add(await MoneyWorld.ContributorWithBankAccountAsync(db, "Contributor " + i));
        }
        var sessions = new List<(Guid Session, Guid Contributor, Guid Job)>();

        for (var op = 0; op < DatabaseOperations; op++)
        {
            var job = jobs[random.Next(jobs.Count)];
            var roll = random.Next(100);
            if (roll < 30)
            {
                counts.Fundings++;
                var amount = random.Next(3) == 0 ? random.NextInt64(1, 10_000_000) : x.Long();
                var before = await LedgerQueries.EscrowAsync(db, job);
                var result = await escrow.RecordBankTransferAsync(job, new Money(amount, "CNY"), $"BANK-{op}", admin);
                var after = await LedgerQueries.EscrowAsync(db, job);
                if (result.Outcome == FundingOutcome.Refused)
                {
                    counts.RefusedFundings++;
                    after.ShouldBe(before, "a refused funding changes nothing");
                    (amount <= 0 || amount > EscrowRules.MaxEscrowMinor || (BigInteger)before.HeldMinor + amount - Math.Min(amount, before.AdvancedMinor) > EscrowRules.MaxEscrowMinor)
                        .ShouldBeTrue($"funding {amount} into {before} was refused without reason");
                }
                else
                {
                    result.Outcome.ShouldBe(FundingOutcome.Recorded);
                    ((BigInteger)after.NetMinor).ShouldBe((BigInteger)before.NetMinor + amount);
                }
            }
            else if (roll < 85)
            {
                counts.AccrualCalls++;
                var checkpoints = new List<Checkpoint>();
                for (var c = random.Next(1, 25); c > 0; c--)
                {
                    var (session, contributor, sessionJob) = sessions.Count > 0 && random.Next(3) > 0
                        ? sessions[random.Next(sessions.Count)]
                        : (Guid.CreateVersion7(), contributors[random.Next(contributors.Count)], job);
                    if (!sessions.Contains((session, contributor, sessionJob)))
                    {
                        sessions.Add((session, contributor, sessionJob));
                    }
                    var activeMs = random.Next(20) switch
                    {
                        0 => x.Long(),
                        1 => x.NonNegative(),
                        _ => random.NextInt64(0, 8 * PayCalculator.MsPerHour),
                    };
                    checkpoints.Add(new Checkpoint(session, contributor, sessionJob, activeMs));
                }
                counts.Checkpoints += checkpoints.Count;
                var entriesBefore = await db.Set<LedgerEntry>().CountAsync();
                var accruedBefore = await db.Set<EarningsAccrualRow>().SumAsync(a => (decimal)a.AccruedMinor);
                try
                {
                    await EarningsAccrual.AccrueManyAsync(db, checkpoints, time);
                }
                catch (Exception e) when (e is ArgumentOutOfRangeException or AmountOutOfRangeException or OverflowException or ArgumentException
                                              or PostgresException { SqlState: PostgresErrorCodes.CheckViolation })
                {
                    counts.RefusedAccrualCalls++;
                    counts.Refusals[e.GetType().Name] = counts.Refusals.GetValueOrDefault(e.GetType().Name) + 1;
                    db.ChangeTracker.Clear();
                    (await db.Set<LedgerEntry>().CountAsync()).ShouldBe(entriesBefore, $"a refused accrual writes nothing ({e.GetType().Name}: {e.Message})");
                    (await db.Set<EarningsAccrualRow>().SumAsync(a => (decimal)a.AccruedMinor)).ShouldBe(accruedBefore);
                    // The refusal is for a reason: a negative time, a figure past a long, or the platform advance reaching its bound.
                    if (e is PostgresException pg)
                    {
                        pg.ConstraintName.ShouldBe("ledger_balances_bounded");
                    }
                    else if (e is ArgumentOutOfRangeException)
                    {
                        checkpoints.ShouldContain(c => c.ActiveMsTotal < 0);
                    }
                }
            }
            else if (roll < 95)
            {
                counts.PayoutRuns++;
                time.Advance(TimeSpan.FromHours(1));
                await using var payoutDb = MoneyWorld.Open(connectionString);
                await harness.Runner(payoutDb).RunAsync($"run-{op}");
                var batches = harness.Batches(payoutDb);
                foreach (var batch in (await batches.ListAsync()).Where(b => random.Next(2) == 0))
                {
                    await batches.MarkSentAsync(batch.Id, admin);
                    await batches.ConfirmRemainingAsync(batch.Id);
                }
            }
            else
            {
                counts.Closes++;
                await db.Jobs.Where(j => j.Id == job).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Closed));
                var before = await LedgerQueries.EscrowAsync(db, job);
                var refund = (await escrow.RefundOnCloseAsync(job))!.Value.Minor;
                refund.ShouldBe(Math.Max(0, before.NetMinor));
                await db.Jobs.Where(j => j.Id == job).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Published));
            }
            if (op % 25 == 24 || op == DatabaseOperations - 1)
            {
                await InvariantsHoldAsync(db);
            }
        }
        counts.JobsWithAdvance = (await LedgerQueries.EscrowsAsync(db, [.. jobs])).Count(e => e.Value.AdvancedMinor > 0);
        return counts;
    }

    /// <summary>Every ledger transaction sums to zero; no account that holds money is below zero; every accrual is exact.</summary>
    private static async Task InvariantsHoldAsync(CrowdDb db)
    {
        (await CountAsync(db, $"""
            SELECT count(*) AS "Value" FROM (SELECT 1 FROM ledger_entries GROUP BY transaction_id, currency HAVING sum(amount_minor) <> 0) t
            """)).ShouldBe(0, "every ledger transaction sums to zero per currency");
        (await CountAsync(db, $"""
            SELECT count(*) AS "Value" FROM (
                SELECT a.kind, sum(e.amount_minor) AS balance FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id
                GROUP BY a.id, a.kind) b
            WHERE (b.kind NOT IN (7, 8) AND b.balance < 0) OR abs(b.balance) > 1000000000000000000
               OR (b.kind = 1 AND b.balance > 999999999999999) OR (b.kind = 8 AND b.balance < -999999999999999)
            """)).ShouldBe(0, "no account that holds money is negative, and no balance passes its bound");
        (await CountAsync(db, $"""
            SELECT count(*) AS "Value" FROM earnings_accruals
            WHERE accrued_minor::numeric <> ceil(active_ms_total::numeric * hourly_rate_minor / 3600000)
               OR platform_fee_minor::numeric <> ceil(accrued_minor::numeric * platform_fee_bp / 10000)
            """)).ShouldBe(0, "every session's pay and fee are the exact rounded-up figures");
        (await CountAsync(db, $"""SELECT count(*) AS "Value" FROM payouts WHERE amount_minor <= 0""")).ShouldBe(0);
        (await LedgerQueries.TrialBalanceAsync(db)).Values.ShouldAllBe(v => v == 0);
    }

    private static Task<long> CountAsync(CrowdDb db, FormattableString sql) => db.Database.SqlQuery<long>(sql).SingleAsync();
}
