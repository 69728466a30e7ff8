using Crowd.Server.Features.Ledger;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crowd.Server.Tests.Features.Ledger;

/// <summary>
/// What the code must never do, the database refuses too: each test writes it by hand, behind the application's back, and
/// sees PostgreSQL refuse it and keep nothing.
/// </summary>
public sealed class LedgerBoundsTests : IAsyncLifetime
{
    private string _db = "";

    public async Task InitializeAsync() => _db = await TestPostgres.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>One ledger transaction of these (kind, owner, amount) entries in CNY, written in plain SQL and committed.</summary>
    private async Task PostRawAsync(params (int Kind, Guid Owner, long Amount)[] entries)
    {
        var tx = Guid.NewGuid();
        var accounts = string.Join(",\n", entries.Select(e => $"(ledger_account_id({e.Kind}, '{e.Owner}', 'CNY'), {e.Kind}, '{e.Owner}', 'CNY', now())"));
        var lines = string.Join(",\n", entries.Select(e => $"('{tx}', ledger_account_id({e.Kind}, '{e.Owner}', 'CNY'), {e.Amount}, 'CNY')"));
        await RawAsync($"""
            BEGIN;
            INSERT INTO ledger_accounts (id, kind, owner_id, currency, created_at) VALUES {accounts} ON CONFLICT DO NOTHING;
            INSERT INTO ledger_transactions (id, kind, reference, idempotency_key, created_at) VALUES ('{tx}', 8, 'by hand', '{tx}', now());
            INSERT INTO ledger_entries (transaction_id, account_id, amount_minor, currency) VALUES {lines};
            COMMIT;
            """);
    }

    private async Task RawAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> BalanceAsync(AccountRef account)
    {
        await using var db = MoneyWorld.Open(_db);
        return (await LedgerQueries.BalanceAsync(db, account)).Minor;
    }

    private const int Escrow = 1, Payable = 2, PlatformFee = 4, InFlight = 5, External = 7, Advance = 8;

    [Fact]
    public async Task TheDatabaseRefusesAnEscrowBalanceBelowZero()
    {
        var job = Guid.NewGuid();
        var contributor = Guid.NewGuid();
        await PostRawAsync((External, Guid.Empty, -5_000), (Escrow, job, 5_000));

        var refused = await Should.ThrowAsync<PostgresException>(() => PostRawAsync((Escrow, job, -5_001), (Payable, contributor, 5_001)));
        await PostRawAsync((Escrow, job, -5_000), (Payable, contributor, 5_000));

        refused.SqlState.ShouldBe(PostgresErrorCodes.CheckViolation);
        refused.ConstraintName.ShouldBe("ledger_balances_bounded");
        refused.MessageText.ShouldContain($"escrow account of {job} to -1 CNY");
        (await BalanceAsync(AccountRef.Escrow(job, "CNY"))).ShouldBe(0, "exactly all of it may be spent, one fen more may not");
        (await BalanceAsync(AccountRef.Payable(contributor, "CNY"))).ShouldBe(5_000);
    }

    [Fact]
    public async Task TheDatabaseRefusesAnEscrowAboveTheLargestBudget()
    {
        var job = Guid.NewGuid();
        await PostRawAsync((External, Guid.Empty, -999_999_999_999_999), (Escrow, job, 999_999_999_999_999));

        var refused = await Should.ThrowAsync<PostgresException>(() => PostRawAsync((External, Guid.Empty, -1), (Escrow, job, 1)));

        refused.ConstraintName.ShouldBe("ledger_balances_bounded");
        (await BalanceAsync(AccountRef.Escrow(job, "CNY"))).ShouldBe(999_999_999_999_999);
    }

    [Theory]
    [InlineData(1_000_000_000_000_000L)]
    [InlineData(9_223_372_036_854_775_807L)]
    public async Task TheDatabaseRefusesAnEntryBeyondTheBound(long amount)
    {
        var refused = await Should.ThrowAsync<PostgresException>(() => PostRawAsync((PlatformFee, Guid.Empty, amount), (InFlight, Guid.Empty, -amount)));

        refused.SqlState.ShouldBe(PostgresErrorCodes.CheckViolation);
        refused.ConstraintName.ShouldBe("ck_ledger_entries_amount_bound");
        (await BalanceAsync(AccountRef.PlatformFee("CNY"))).ShouldBe(0);
    }

    [Fact]
    public async Task TheDatabaseRefusesMoneyTakenInBeyondTheLedgerBoundSoNoDerivedBalanceCanOverflow()
    {
        // 1,001 entries of the largest size each: every one is within bounds, together they take in more than 10^18.
        var tx = Guid.NewGuid();
        var sql = $"""
            BEGIN;
            INSERT INTO ledger_accounts (id, kind, owner_id, currency, created_at) VALUES
                (ledger_account_id(7, '{Guid.Empty}', 'CNY'), 7, '{Guid.Empty}', 'CNY', now()),
                (ledger_account_id(4, '{Guid.Empty}', 'CNY'), 4, '{Guid.Empty}', 'CNY', now()) ON CONFLICT DO NOTHING;
            INSERT INTO ledger_transactions (id, kind, reference, idempotency_key, created_at) VALUES ('{tx}', 8, 'by hand', '{tx}', now());
            INSERT INTO ledger_entries (transaction_id, account_id, amount_minor, currency)
            SELECT '{tx}', ledger_account_id(k, '{Guid.Empty}', 'CNY'), CASE k WHEN 7 THEN -999999999999999 ELSE 999999999999999 END, 'CNY'
            FROM generate_series(1, 1001), unnest(ARRAY[7, 4]) AS k;
            COMMIT;
            """;

        var refused = await Should.ThrowAsync<PostgresException>(() => RawAsync(sql));

        refused.ConstraintName.ShouldBe("ledger_balances_bounded");
        refused.MessageText.ShouldContain("external account");
        (await BalanceAsync(AccountRef.External("CNY"))).ShouldBe(0);
    }

    [Fact]
    public async Task TheDatabaseRefusesAPlatformAdvanceAboveZeroOrPastTheLargestBudget()
    {
        var job = Guid.NewGuid();

        var credited = await Should.ThrowAsync<PostgresException>(() => PostRawAsync((External, Guid.Empty, -5), (Advance, job, 5)));
        await PostRawAsync((Advance, job, -999_999_999_999_999), (Payable, Guid.NewGuid(), 999_999_999_999_999));
        var further = await Should.ThrowAsync<PostgresException>(() => PostRawAsync((Advance, job, -1), (Payable, Guid.NewGuid(), 1)));

        credited.ConstraintName.ShouldBe("ledger_balances_bounded");
        further.ConstraintName.ShouldBe("ledger_balances_bounded");
        (await BalanceAsync(AccountRef.Advance(job, "CNY"))).ShouldBe(-999_999_999_999_999);
    }

    [Fact]
    public async Task TheDatabaseRefusesRatesFloorsAndTargetHoursAboveTheirMaximums()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = await MoneyWorld.JobAsync(db);

        var rate = await Should.ThrowAsync<PostgresException>(() => RawAsync($"UPDATE jobs SET hourly_rate_minor = 9223372036854775807 WHERE id = '{job.Id}'"));
        var floor = await Should.ThrowAsync<PostgresException>(() => RawAsync("UPDATE rate_floors SET legal_minimum_minor = 1000001 WHERE region = 'CN-BJ'"));
        var hours = await Should.ThrowAsync<PostgresException>(() => RawAsync(
            $"INSERT INTO job_budgets (job_id, target_hours, platform_fee_bp, supplier_fee_bp, updated_at) VALUES ('{job.Id}', 100001, 0, 0, now())"));

        rate.ConstraintName.ShouldBe("ck_jobs_hourly_rate_bound");
        floor.ConstraintName.ShouldBe("ck_rate_floors_amount_bound");
        hours.ConstraintName.ShouldBe("ck_job_budgets_hours_bound");
        (await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == job.Id)).Terms.HourlyRateMinor.ShouldBe(3000);
    }
}
