using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Infrastructure;

/// <summary>Rows the money tests need (requester organisations, jobs, contributors, payout methods), written straight to the database.</summary>
public static class MoneyWorld
{
    /// <summary>Where a test's clock starts unless the test says otherwise.</summary>
    public static readonly DateTimeOffset ClockStart = new(2026, 11, 21, 8, 0, 0, TimeSpan.Zero);

    public static CrowdDb Open(string connectionString) =>
        new(new DbContextOptionsBuilder<CrowdDb>().UseNpgsql(connectionString).Options);

    public static async Task<Guid> RequesterAsync(CrowdDb db)
    {
        var org = new Organisation { Id = Guid.CreateVersion7(), Name = "Voice AI Ltd", Kind = OrganisationKind.Requester, CreatedAt = DateTimeOffset.UtcNow };
        db.Organisations.Add(org);
        await db.SaveChangesAsync();
        return org.Id;
    }

    public static async Task<Guid> UserAsync(CrowdDb db, string name = "Li Wei", Guid? organisationId = null)
    {
        var id = Guid.CreateVersion7();
        db.Users.Add(new CrowdUser
        {
            Id = id, UserName = $"u{id:N}@example.test", NormalizedUserName = $"U{id:N}@EXAMPLE.TEST", Email = $"u{id:N}@example.test",
            DisplayName = name, DateOfBirth = new DateOnly(1995, 1, 1), CreatedAt = DateTimeOffset.UtcNow, OrganisationId = organisationId,
            SecurityStamp = Guid.NewGuid().ToString(),
        });
        await db.SaveChangesAsync();
        return id;
    }

    public static async Task<Job> JobAsync(CrowdDb db, long hourlyRateMinor = 3000, string currency = "CNY", string region = "CN-BJ",
        JobStatus status = JobStatus.Published, Guid? organisationId = null)
    {
        var org = organisationId ?? await RequesterAsync(db);
        var owner = await UserAsync(db, "Requester", org);
        var job = new Job
        {
            Id = Guid.CreateVersion7(), OrganisationId = org, CreatedByUserId = owner, Status = status, Version = 1,
            Terms = new JobTerms(Title: "Read Mandarin prompts", Description: "Read each prompt once.", Language: "zh-CN",
                HourlyRateMinor: hourlyRateMinor, Currency: currency, Region: region, BuyerName: "Voice AI Ltd"),
            CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        };
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        return job;
    }

    /// <summary>
    /// A contributor paid by bank file. With <paramref name="numbers"/> the account number is encrypted as the earnings page
    /// stores it; without, it is stored in clear as before encryption, with the kind and last four that migration 0096 adds.
    /// </summary>
    public static async Task<Guid> ContributorWithBankAccountAsync(CrowdDb db, string name = "Wang Fang", bool onboarded = true, string? currency = null,
        PayoutAccountNumbers? numbers = null)
    {
        var id = await UserAsync(db, name);
        var number = "6222 0000 " + id.ToString("N")[..8];
        var account = new PayoutAccount
        {
            ContributorId = id, Provider = PayoutProvider.BankFile, PayeeName = name, AccountKind = PayoutAccountKind.BankCard,
            AccountNumberLast4 = PayoutMethodRules.LastFour(number), LegacyAccountNumber = number,
            Currency = currency, Onboarded = onboarded, UpdatedAt = DateTimeOffset.UtcNow,
        };
        numbers?.Store(account, PayoutAccountKind.BankCard, number);
        db.Set<PayoutAccount>().Add(account);
        await db.SaveChangesAsync();
        return id;
    }

    public static async Task FundAsync(CrowdDb db, Guid jobId, long amountMinor, string currency = "CNY") =>
        await LedgerWriter.PostAsync(db, LedgerPosting.Transfer(LedgerTransactionKind.EscrowFunded, "test funding", "test-funding:" + Guid.NewGuid(),
            AccountRef.External(currency), AccountRef.Escrow(jobId, currency), amountMinor), DateTimeOffset.UtcNow, default);

    /// <summary>The two invariants every money test ends with: each currency sums to zero, no contributor is owed less than nothing.</summary>
    public static async Task LedgerIsSoundAsync(CrowdDb db)
    {
        (await LedgerQueries.TrialBalanceAsync(db)).Where(c => c.Value != 0).ShouldBeEmpty("every currency's entries sum to zero");
        (await LedgerQueries.NegativeContributorBalancesAsync(db)).ShouldBeEmpty("no contributor balance is negative");
    }
}
