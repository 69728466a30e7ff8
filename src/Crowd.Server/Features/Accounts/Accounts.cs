using Microsoft.AspNetCore.Identity;

namespace Crowd.Server.Features.Accounts;

public static class Roles
{
    public const string Contributor = "contributor";
    public const string Requester = "requester";
    public const string Supplier = "supplier";
    public const string Admin = "admin";

    public static readonly string[] All = [Contributor, Requester, Supplier, Admin];
}

public sealed class CrowdUser : IdentityUser<Guid>
{
    public string DisplayName { get; set; } = "";
    public DateOnly DateOfBirth { get; set; }
    public Guid? OrganisationId { get; set; }
    public Organisation? Organisation { get; set; }
    public string PreferredCulture { get; set; } = "en";
    public DateTimeOffset CreatedAt { get; set; }
}

public enum OrganisationKind
{
    Requester = 1,
    Supplier = 2,
}

/// <summary>An AI firm that posts jobs (requester) or a vendor that brings contributors in (supplier).</summary>
public sealed class Organisation
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public OrganisationKind Kind { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
