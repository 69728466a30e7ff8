using Crowd.Server.Features.Accounts;

namespace Crowd.Server.Tests.Infrastructure;

/// <summary>A requester account of its own organisation, signed in with a cookie.</summary>
public sealed record Requester(HttpClient Client, CrowdUser User, Guid OrganisationId);

public static class TestOrganisations
{
    public static async Task<Guid> CreateOrganisationAsync(this CrowdApp app, OrganisationKind kind = OrganisationKind.Requester, string? name = null)
    {
        var organisation = new Organisation
        {
            Id = Guid.CreateVersion7(),
            Name = name ?? "Org " + Guid.NewGuid().ToString("N")[..8],
            Kind = kind,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        await app.WithDbAsync(async db =>
        {
            db.Organisations.Add(organisation);
            await db.SaveChangesAsync();
        });
        return organisation.Id;
    }

    public static async Task<Requester> RequesterAsync(this CrowdApp app, string? organisation = null)
    {
        var organisationId = await app.CreateOrganisationAsync(OrganisationKind.Requester, organisation);
        var user = await app.CreateUserAsync(Roles.Requester, organisationId: organisationId);
        return new Requester(await app.SignedInClientAsync(user.Email!), user, organisationId);
    }
}
