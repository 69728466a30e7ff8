using System.Security.Cryptography;
using System.Text;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Accounts.Throttling;

/// <summary>The failures counted against one key; the key is a hash of what it counts (see <see cref="SignInThrottle.Key"/>).</summary>
public sealed class SignInThrottleRow
{
    public byte[] KeyHash { get; set; } = [];
    public int Failures { get; set; }
    public DateTimeOffset LastFailureAt { get; set; }
}

public sealed record ThrottleKey(ThrottleScope Scope, byte[] Hash);

/// <summary>
/// Counts failed sign-ins in PostgreSQL, so every node sees the same counts. Unknown email addresses are counted exactly
/// like real ones: how the answers slow down says nothing about whether an account exists.
/// </summary>
public sealed class SignInThrottle(CrowdDb db, TimeProvider clock)
{
    public static ThrottleKey Key(ThrottleScope scope, string normalizedEmail, string address) => new(scope, SHA256.HashData(Encoding.UTF8.GetBytes(scope switch
    {
        ThrottleScope.AccountFromAddress => $"account-from-address\n{normalizedEmail}\n{address}",
        ThrottleScope.Address => $"address\n{address}",
        ThrottleScope.Account => $"account\n{normalizedEmail}",
        _ => throw new ArgumentOutOfRangeException(nameof(scope)),
    })));

    /// <summary>How long the caller must wait before an attempt on these keys is looked at; zero when it may go ahead.</summary>
    public async Task<TimeSpan> WaitAsync(IReadOnlyList<ThrottleKey> keys, CancellationToken ct)
    {
        var hashes = keys.Select(k => k.Hash).ToList();
        var rows = await db.Set<SignInThrottleRow>().AsNoTracking().Where(r => hashes.Contains(r.KeyHash)).ToListAsync(ct);
        var now = clock.GetUtcNow();
        var wait = TimeSpan.Zero;
        foreach (var row in rows)
        {
            var scope = keys.First(k => k.Hash.AsSpan().SequenceEqual(row.KeyHash)).Scope;
            var rowWait = SignInThrottleRules.Wait(row.Failures, row.LastFailureAt, now, SignInThrottleRules.RuleFor(scope));
            wait = rowWait > wait ? rowWait : wait;
        }
        return wait;
    }

    public async Task FailedAsync(IReadOnlyList<ThrottleKey> keys, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var forgotten = now - SignInThrottleRules.ForgetAfter;
        foreach (var key in keys)
        {
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO sign_in_throttles AS t (key_hash, failures, last_failure_at) VALUES ({key.Hash}, 1, {now})
                ON CONFLICT (key_hash) DO UPDATE
                SET failures = CASE WHEN t.last_failure_at < {forgotten} THEN 1 ELSE t.failures + 1 END, last_failure_at = {now}
                """, ct);
        }
        await db.Database.ExecuteSqlAsync($"DELETE FROM sign_in_throttles WHERE last_failure_at < {forgotten}", ct);
    }

    /// <summary>The owner got in from here: their own earlier typos no longer slow them down from this address.</summary>
    public Task SucceededAsync(ThrottleKey accountFromAddress, CancellationToken ct) =>
        db.Database.ExecuteSqlAsync($"DELETE FROM sign_in_throttles WHERE key_hash = {accountFromAddress.Hash}", ct);
}

internal sealed class SignInThrottleRowConfiguration : IEntityTypeConfiguration<SignInThrottleRow>
{
    public void Configure(EntityTypeBuilder<SignInThrottleRow> e)
    {
        e.ToTable("sign_in_throttles");
        e.HasKey(r => r.KeyHash);
        e.HasIndex(r => r.LastFailureAt);
    }
}
