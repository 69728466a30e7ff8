using Crowd.Server.Features.Audit;
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

        (await app.WithDbAsync(db => AuditLog.VerifyAsync(db, CancellationToken.None))).ShouldBeNull();
    }

    [Fact]
    public async Task ConcurrentWritersExtendOneUnbrokenChain()
    {
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => AppendAsync(10)));

        (await app.WithDbAsync(db => AuditLog.VerifyAsync(db, CancellationToken.None))).ShouldBeNull();
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
        await using var isolated = new CrowdApp();
        await isolated.InitializeAsync();
        await using (var scope = isolated.Services.CreateAsyncScope())
        {
            var log = scope.ServiceProvider.GetRequiredService<AuditLog>();
            for (var i = 0; i < 6; i++)
            {
                await log.AppendAsync(new AuditEvent("user", Guid.NewGuid(), "audio.read", "clip", Guid.NewGuid().ToString(),
                    "review", """{"bytes":1024}"""), CancellationToken.None);
            }
        }

        await TamperAsync(isolated.ConnectionString, seq: 4, field);

        var broken = await isolated.WithDbAsync(db => AuditLog.VerifyAsync(db, CancellationToken.None));
        broken.ShouldNotBeNull();
        broken.Seq.ShouldBe(4, $"the first broken link is the changed entry ({broken.Problem})");
    }

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
