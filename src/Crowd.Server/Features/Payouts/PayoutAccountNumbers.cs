using Crowd.Server.Infrastructure.Database;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Payouts;

/// <summary>
/// Account numbers of payout methods, encrypted with the platform's data-protection keys (the key ring that already
/// protects its cookies, kept in PostgreSQL and shared by every node). Only the bank batch file reads them in full.
/// </summary>
public sealed class PayoutAccountNumbers(IDataProtectionProvider protection, ILogger<PayoutAccountNumbers> logger)
{
    private readonly IDataProtector _protector = protection.CreateProtector("Crowd.Payouts.AccountNumber.v1");

    public void Store(PayoutAccount account, PayoutAccountKind kind, string number)
    {
        account.AccountKind = kind;
        account.AccountNumberProtected = _protector.Protect(number);
        account.AccountNumberLast4 = PayoutMethodRules.LastFour(number);
        account.LegacyAccountNumber = null;
    }

    /// <summary>The full number, for the file the bank pays from; null when the method has none.</summary>
    public string? Reveal(string? protectedNumber, string? legacyNumber) =>
        protectedNumber is null ? legacyNumber : _protector.Unprotect(protectedNumber);

    /// <summary>Encrypts the numbers stored in clear before numbers were encrypted (migration 0096), and clears them.</summary>
    public async Task<int> ProtectLegacyAsync(CrowdDb db, CancellationToken ct)
    {
        var legacy = await db.Set<PayoutAccount>().Where(a => a.LegacyAccountNumber != null).ToListAsync(ct);
        foreach (var account in legacy)
        {
            Store(account, account.AccountKind ?? PayoutAccountKind.BankCard, account.LegacyAccountNumber!);
        }
        await db.SaveChangesAsync(ct);
        if (legacy.Count > 0)
        {
            logger.LogInformation("Encrypted {Count} payout account numbers stored in clear", legacy.Count);
        }
        return legacy.Count;
    }
}

/// <summary>Encrypts clear-text account numbers at start-up, once the schema is migrated.</summary>
public sealed class LegacyAccountNumberProtection(IServiceScopeFactory scopes) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<PayoutAccountNumbers>()
            .ProtectLegacyAsync(scope.ServiceProvider.GetRequiredService<CrowdDb>(), cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
