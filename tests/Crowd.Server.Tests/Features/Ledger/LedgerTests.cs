using Crowd.Server.Features.Ledger;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crowd.Server.Tests.Features.Ledger;

public sealed class LedgerTests : IAsyncLifetime
{
    private string _db = "";

    public async Task InitializeAsync() => _db = await TestPostgres.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task ABalancedTransactionPostsAndBalancesAreDerivedFromEntries()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = Guid.NewGuid();

        (await LedgerWriter.PostAsync(db, LedgerPosting.Transfer(LedgerTransactionKind.EscrowFunded, "bank transfer", "k1",
            AccountRef.External("CNY"), AccountRef.Escrow(job, "CNY"), 50_000), DateTimeOffset.UtcNow, default)).ShouldBeTrue();

        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job, "CNY"))).Minor.ShouldBe(50_000);
        (await LedgerQueries.BalanceAsync(db, AccountRef.External("CNY"))).Minor.ShouldBe(-50_000);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task PostingTheSameIdempotencyKeyTwiceMovesMoneyOnce()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = Guid.NewGuid();
        var posting = LedgerPosting.Transfer(LedgerTransactionKind.EscrowFunded, "bank transfer", "same-key-" + job, AccountRef.External("CNY"),
            AccountRef.Escrow(job, "CNY"), 1_000);

        (await LedgerWriter.PostAsync(db, posting, DateTimeOffset.UtcNow, default)).ShouldBeTrue();
        (await LedgerWriter.PostAsync(db, posting with { Id = Guid.CreateVersion7() }, DateTimeOffset.UtcNow, default)).ShouldBeFalse();

        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job, "CNY"))).Minor.ShouldBe(1_000);
    }

    [Fact]
    public async Task TheDatabaseRefusesAnUnbalancedTransactionWrittenBehindTheApplicationsBack()
    {
        await using var db = MoneyWorld.Open(_db);
        var account = await AccountAsync(db);

        var e = await Should.ThrowAsync<PostgresException>(() => RawAsync(db, $"""
            BEGIN;
            INSERT INTO ledger_transactions (id, kind, reference, idempotency_key, created_at) VALUES ('{Guid.NewGuid()}', 8, 'x', '{Guid.NewGuid()}', now());
            INSERT INTO ledger_entries (transaction_id, account_id, amount_minor, currency)
              SELECT id, '{account}', 500, 'CNY' FROM ledger_transactions ORDER BY created_at DESC LIMIT 1;
            COMMIT;
            """));

        e.MessageText.ShouldContain("does not balance");
        (await db.Set<LedgerEntry>().CountAsync(e => e.AccountId == account)).ShouldBe(1);
        await MoneyWorld.LedgerIsSoundAsync(db);
    }

    [Fact]
    public async Task EntriesAddedToABalancedTransactionLaterInTheSameDatabaseTransactionAreCheckedAgain()
    {
        await using var db = MoneyWorld.Open(_db);
        var account = await AccountAsync(db);
        var tx = Guid.NewGuid();

        await Should.ThrowAsync<PostgresException>(() => RawAsync(db, $"""
            BEGIN;
            INSERT INTO ledger_transactions (id, kind, reference, idempotency_key, created_at) VALUES ('{tx}', 8, 'x', '{tx}', now());
            INSERT INTO ledger_entries (transaction_id, account_id, amount_minor, currency) VALUES ('{tx}', '{account}', 5, 'CNY'), ('{tx}', '{account}', -5, 'CNY');
            SET CONSTRAINTS ALL IMMEDIATE;
            SET CONSTRAINTS ALL DEFERRED;
            INSERT INTO ledger_entries (transaction_id, account_id, amount_minor, currency) VALUES ('{tx}', '{account}', 7, 'CNY');
            COMMIT;
            """));
    }

    [Fact]
    public async Task EntriesNamingATransactionThatDoesNotExistAreRefusedAtCommit()
    {
        await using var db = MoneyWorld.Open(_db);
        var account = await AccountAsync(db);
        var ghost = Guid.NewGuid();

        var e = await Should.ThrowAsync<PostgresException>(() => RawAsync(db, $"""
            INSERT INTO ledger_entries (transaction_id, account_id, amount_minor, currency) VALUES ('{ghost}', '{account}', 5, 'CNY'), ('{ghost}', '{account}', -5, 'CNY');
            """));

        e.MessageText.ShouldContain("does not exist");
    }

    [Fact]
    public async Task EntriesCannotBeChangedOrDeleted()
    {
        await using var db = MoneyWorld.Open(_db);
        var job = Guid.NewGuid();
        await LedgerWriter.PostAsync(db, LedgerPosting.Transfer(LedgerTransactionKind.EscrowFunded, "t", "imm-" + job, AccountRef.External("CNY"),
            AccountRef.Escrow(job, "CNY"), 100), DateTimeOffset.UtcNow, default);

        (await Should.ThrowAsync<PostgresException>(() => RawAsync(db, "UPDATE ledger_entries SET amount_minor = amount_minor * 2"))).MessageText.ShouldContain("append-only");
        (await Should.ThrowAsync<PostgresException>(() => RawAsync(db, "DELETE FROM ledger_entries"))).MessageText.ShouldContain("append-only");
        (await Should.ThrowAsync<PostgresException>(() => RawAsync(db, "DELETE FROM ledger_transactions"))).MessageText.ShouldContain("append-only");
        (await Should.ThrowAsync<PostgresException>(() => RawAsync(db, "TRUNCATE ledger_entries CASCADE"))).MessageText.ShouldContain("append-only");
        (await LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job, "CNY"))).Minor.ShouldBe(100);
    }

    [Fact]
    public async Task AnEntryInAnotherCurrencyThanItsAccountIsRefused()
    {
        await using var db = MoneyWorld.Open(_db);
        var account = await AccountAsync(db);
        var tx = Guid.NewGuid();

        await Should.ThrowAsync<PostgresException>(() => RawAsync(db, $"""
            BEGIN;
            INSERT INTO ledger_transactions (id, kind, reference, idempotency_key, created_at) VALUES ('{tx}', 8, 'x', '{tx}', now());
            INSERT INTO ledger_entries (transaction_id, account_id, amount_minor, currency) VALUES ('{tx}', '{account}', 5, 'USD'), ('{tx}', '{account}', -5, 'USD');
            COMMIT;
            """));
    }

    [Fact]
    public void UnbalancedZeroOrUnsupportedPostingsAreRefusedBeforeTheyReachTheDatabase()
    {
        var job = Guid.NewGuid();
        LedgerRules.Problems(new LedgerPosting(Guid.NewGuid(), LedgerTransactionKind.Correction, "x", "k",
            [new LedgerLine(AccountRef.Escrow(job, "CNY"), 10), new LedgerLine(AccountRef.External("CNY"), -9)])).ShouldContain(p => p.Contains("sum to 1"));
        LedgerRules.Problems(new LedgerPosting(Guid.NewGuid(), LedgerTransactionKind.Correction, "x", "k",
            [new LedgerLine(AccountRef.Escrow(job, "CNY"), 0), new LedgerLine(AccountRef.External("CNY"), 0)])).ShouldContain("An entry cannot be zero.");
        LedgerRules.Problems(new LedgerPosting(Guid.NewGuid(), LedgerTransactionKind.Correction, "x", "k",
            [new LedgerLine(AccountRef.Escrow(job, "CNY"), 10), new LedgerLine(AccountRef.External("USD"), -10)])).Count.ShouldBe(2);
        LedgerRules.Problems(new LedgerPosting(Guid.NewGuid(), LedgerTransactionKind.Correction, "x", "k",
            [new LedgerLine(AccountRef.Escrow(job, "XXX"), 10), new LedgerLine(AccountRef.External("XXX"), -10)])).ShouldContain("Currency XXX is not supported.");
    }

    [Fact]
    public async Task ManyTransactionsPostInOneRoundTripAndStayBalanced()
    {
        await using var db = MoneyWorld.Open(_db);
        var postings = Enumerable.Range(0, 2_000).Select(i => LedgerPosting.Transfer(LedgerTransactionKind.EscrowFunded, "bulk", $"bulk-{Guid.NewGuid()}",
            AccountRef.External("EUR"), AccountRef.Escrow(Guid.NewGuid(), "EUR"), i + 1)).ToList();

        (await LedgerWriter.PostManyAsync(db, postings, DateTimeOffset.UtcNow, default)).ShouldBe(2_000);

        (await LedgerQueries.TrialBalanceAsync(db))["EUR"].ShouldBe(0);
    }

    private static async Task<Guid> AccountAsync(CrowdDb db)
    {
        var owner = Guid.NewGuid();
        await LedgerWriter.PostAsync(db, LedgerPosting.Transfer(LedgerTransactionKind.EscrowFunded, "seed", "seed-" + owner, AccountRef.External("CNY"),
            AccountRef.Escrow(owner, "CNY"), 1), DateTimeOffset.UtcNow, default);
        return await db.Set<LedgerAccount>().Where(a => a.OwnerId == owner).Select(a => a.Id).SingleAsync();
    }

    private static async Task RawAsync(CrowdDb db, string sql)
    {
        await using var connection = new NpgsqlConnection(db.Database.GetConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
