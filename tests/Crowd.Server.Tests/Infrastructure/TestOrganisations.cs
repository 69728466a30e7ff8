using Crowd.Server.Features.Accounts;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Crowd.Server.Tests.Infrastructure;

public static class TestOrganisations
{
    public static async Task<Guid> CreateOrganisationAsync(this CrowdApp app, OrganisationKind kind = OrganisationKind.Requester)
    {
        var organisation = new Organisation { Id = Guid.CreateVersion7(), Name = "Org " + Guid.NewGuid().ToString("N")[..8], Kind = kind, CreatedAt = DateTimeOffset.UtcNow };
        await app.WithDbAsync(async db =>
        {
            db.Organisations.Add(organisation);
            await db.SaveChangesAsync();
        });
        return organisation.Id;
    }

    /// <summary>A requester of a new organisation, signed in with a cookie.</summary>
    public static async Task<(HttpClient Client, CrowdUser User, Guid OrganisationId)> SignedInRequesterAsync(this CrowdApp app)
    {
        var organisationId = await app.CreateOrganisationAsync();
        var user = await app.CreateUserAsync(Roles.Requester, organisationId: organisationId);
        return (await app.SignedInClientAsync(user.Email!), user, organisationId);
    }

    public static HttpClient AnonymousClient(this CrowdApp app) =>
        app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
}
