using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Suppliers;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Tests.Infrastructure;

namespace Crowd.Server.Tests.Features.Suppliers;

/// <summary>Supplier organisations, attributions and attributed working sessions, written straight to the database.</summary>
public static class SupplierWorld
{
    public static async Task<Guid> SupplierAsync(CrowdDb db, string name = "Campus Voices Co.")
    {
        var org = new Organisation { Id = Guid.CreateVersion7(), Name = name, Kind = OrganisationKind.Supplier, CreatedAt = DateTimeOffset.UtcNow };
        db.Organisations.Add(org);
        await db.SaveChangesAsync();
        return org.Id;
    }

    public static async Task AttributeAsync(CrowdDb db, Guid contributor, Guid supplier, DateTimeOffset at)
    {
        db.Add(new SupplierAttribution { Id = Guid.CreateVersion7(), ContributorId = contributor, OrganisationId = supplier, AttributedAt = at });
        await db.SaveChangesAsync();
    }

    /// <summary>People attributed to the supplier at the given time.</summary>
    public static async Task<List<Guid>> PeopleAsync(CrowdDb db, Guid supplier, int count, DateTimeOffset at)
    {
        var people = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var person = await MoneyWorld.UserAsync(db, "Contributor " + i);
            await AttributeAsync(db, person, supplier, at);
            people.Add(person);
        }
        return people;
    }

    public static async Task<Guid> JobAsync(CrowdDb db, int supplierFeeBp = 1000, string currency = "CNY", string region = "CN-BJ", long rate = 3000)
    {
        var job = await MoneyWorld.JobAsync(db, rate, currency, region);
        db.Add(new JobBudget { JobId = job.Id, TargetHours = 1000, PlatformFeeBp = 1000, SupplierFeeBp = supplierFeeBp, UpdatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        await MoneyWorld.FundAsync(db, job.Id, 100_000_000, currency);
        return job.Id;
    }

    /// <summary>One working session of the given active minutes, started at the clock's time.</summary>
    public static Task<AccrualResult> SessionAsync(CrowdDb db, TimeProvider time, Guid contributor, Guid job, int minutes) =>
        EarningsAccrual.AccrueAsync(db, Guid.CreateVersion7(), contributor, job, minutes * 60_000L, time);
}
