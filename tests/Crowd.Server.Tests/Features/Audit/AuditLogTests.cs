using Crowd.Server.Features.Audit;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crowd.Server.Tests.Features.Audit;

public sealed class AuditLogTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task AnUntouchedLogVerifies()
    {
        await AppendAsync(5);

        (await app.VerifyAuditLogAsync()).ShouldBeNull();
    }

    [Fact]
    public async Task ConcurrentWritersExtendOneUnbrokenChain()
    {
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => AppendAsync(10)));

        (await app.VerifyAuditLogAsync()).ShouldBeNull();
    }

    [Fact]
    public async Task TheDatabaseRefusesToChangeOrDeleteAnEntry()
    {
        await AppendAsync(1);

        var update = await Should.ThrowAsync<PostgresException>(() =>
            app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("UPDATE audit_log SET reason = 'rewritten'")));
        update.MessageText.ShouldContain("append-only");
        await Should.ThrowAsync<PostgresException>(() =>
            app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DELETE FROM audit_log")));
    }

    public static TheoryData<string> Fields => new() { "at", "actor_kind", "actor_id", "action", "subject_type", "subject_id", "reason", "details", "prev_hash", "hash" };

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task VerificationFindsAChangeInAnyFieldOfAnyEntry(string field)
    {
        await using var isolated = await IsolatedLogAsync(entries: 6);

        await TamperAsync(isolated.ConnectionString, seq: 4, field);

        var broken = await isolated.VerifyAuditLogAsync();
        broken.ShouldNotBeNull();
        broken.Seq.ShouldBe(4, $"the first broken link is the changed entry ({broken.Problem})");
    }

    public static TheoryData<AuditForgery.Recompute, long, string> Forgeries => new()
    {
        { AuditForgery.Recompute.Sha256, 4, "hash" },
        { AuditForgery.Recompute.GuessedKey, 4, "hash" },
        { AuditForgery.Recompute.Unkeyed, 4, "key" },
        { AuditForgery.Recompute.WholeLogUnkeyed, 1, "key" },
    };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task AnAttackerWithFullDatabaseAccessWhoRewritesAnEntryAndRecomputesTheChainWithoutTheKeyIsDetected(
        AuditForgery.Recompute how, long brokenAt, string link)
    {
        await using var isolated = await IsolatedLogAsync(entries: 6);

        await AuditForgery.RewriteAsync(isolated.ConnectionString, seq: 4, how);

        var broken = await isolated.VerifyAuditLogAsync();
        broken.ShouldNotBeNull();
        (broken.Seq, broken.Link).ShouldBe((brokenAt, link), broken.Problem);
    }

    [Fact]
    public async Task TheSameRewriteRecomputedWithThePlatformsKeyWouldPassWhichIsWhyTheKeyStaysOutOfTheDatabase()
    {
        await using var isolated = await IsolatedLogAsync(entries: 6);

        await AuditForgery.RewriteAsync(isolated.ConnectionString, seq: 4, AuditForgery.Recompute.TheKey,
            isolated.Services.GetRequiredService<AuditKey>().Key);

        (await isolated.VerifyAuditLogAsync()).ShouldBeNull();
    }

    [Fact]
    public async Task TheServerDoesNotExtendALogRebuiltWithoutTheKey()
    {
        await using var isolated = await IsolatedLogAsync(entries: 3);
        await AuditForgery.RewriteAsync(isolated.ConnectionString, seq: 2, AuditForgery.Recompute.WholeLogUnkeyed);

        await using var scope = isolated.Services.CreateAsyncScope();
        var append = () => scope.ServiceProvider.GetRequiredService<AuditLog>().AppendAsync(AuditEvent.BySystem("test.event", "test", "x"), CancellationToken.None);

        (await Should.ThrowAsync<AuditChainUnkeyedException>(append)).Message.ShouldContain("run crowd audit verify");
        (await isolated.WithDbAsync(db => db.AuditLog.CountAsync())).ShouldBe(3);
    }

    [Fact]
    public async Task EntriesWrittenBeforeTheChainWasKeyedAreSealedAtStartAndStayChecked()
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        await WriteUnkeyedAsync(database, count: 4);

        await using var server = new SharedDatabaseApp(database);
        await server.InitializeAsync();
        await using (var scope = server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<AuditLog>().AppendAsync(AuditEvent.BySystem("test.event", "test", "after"), CancellationToken.None);
        }

        var entries = await server.WithDbAsync(db => db.AuditLog.AsNoTracking().OrderBy(e => e.Seq).ToListAsync());
        entries.Select(e => e.Keyed).ShouldBe([false, false, false, false, true, true]);
        (entries[4].Action, entries[4].SubjectId).ShouldBe(("audit.chain_keyed", "4"));
        (await server.VerifyAuditLogAsync()).ShouldBeNull();
        await TamperAsync(database, seq: 2, "reason");
        (await server.VerifyAuditLogAsync())!.Seq.ShouldBe(2, "an entry from before the key is still covered by the chain");
    }

    /// <summary>Entries as versions before the keyed chain wrote them: plain SHA-256 links.</summary>
    private static async Task WriteUnkeyedAsync(string database, int count)
    {
        await using var db = new CrowdDb(new DbContextOptionsBuilder<CrowdDb>().UseNpgsql(database).Options);
        var previous = AuditChain.Genesis;
        for (var seq = 1; seq <= count; seq++)
        {
            var entry = new AuditEntry
            {
                Seq = seq, At = AuditChain.ToStoredPrecision(DateTimeOffset.UtcNow), ActorKind = "system", Action = "test.event",
                SubjectType = "test", SubjectId = seq.ToString(System.Globalization.CultureInfo.InvariantCulture), PrevHash = previous,
            };
            entry.Hash = AuditChain.Hash([], previous, entry);
            db.AuditLog.Add(entry);
            previous = entry.Hash;
        }
        await db.SaveChangesAsync();
    }

    private static async Task<CrowdApp> IsolatedLogAsync(int entries)
    {
        var isolated = new CrowdApp();
        await isolated.InitializeAsync();
        await using var scope = isolated.Services.CreateAsyncScope();
        var log = scope.ServiceProvider.GetRequiredService<AuditLog>();
        for (var i = 0; i < entries; i++)
        {
            await log.AppendAsync(new AuditEvent("user", Guid.NewGuid(), "audio.read", "clip", Guid.NewGuid().ToString(), "review", """{"bytes":1024}"""),
                CancellationToken.None);
        }
        return isolated;
    }

    private sealed class SharedDatabaseApp(string connectionString) : CrowdApp(connectionString);

    private static async Task TamperAsync(string connectionString, long seq, string field)
    {
        var change = field switch
        {
            "at" => "at = at + interval '1 microsecond'",
            "actor_id" => "actor_id = gen_random_uuid()",
            "prev_hash" or "hash" => $"{field} = set_byte({field}, 0, (get_byte({field}, 0) + 1) % 256)",
            "details" => "details = replace(details, '1024', '1025')",
            _ => $"{field} = {field} || 'x'",
        };
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // What an attacker with superuser rights would do: switch the guard off and edit the row.
        await using var command = new NpgsqlCommand(
            $"ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update; UPDATE audit_log SET {change} WHERE seq = {seq}; ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;",
            connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task AppendAsync(int count)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var log = scope.ServiceProvider.GetRequiredService<AuditLog>();
        for (var i = 0; i < count; i++)
        {
            await log.AppendAsync(AuditEvent.BySystem("test.event", "test", i.ToString(System.Globalization.CultureInfo.InvariantCulture)), CancellationToken.None);
        }
    }
}
