using System.Security.Cryptography;
using System.Text.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Audit;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crowd.Server.Features.Suppliers;

/// <summary>What the attribution screen shows for an invitation code that works.</summary>
public sealed record InvitationOffer(Guid InvitationId, string Code, Guid OrganisationId, string SupplierName, Guid? JobId, string? JobTitle,
    string? CurrentSupplierName);

/// <summary>Invitations, attribution (only after the contributor says yes) and detaching, with every step in the audit log.</summary>
public sealed class SupplierAttributions(CrowdDb db, AuditLog audit, SupplierNotices notices, TimeProvider clock)
{
    public const int CodeLength = 10;
    public const int MaxLabelLength = 100;
    // No 0/O or 1/I/L: codes are read aloud and typed from paper.
    private const string CodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

    /// <summary>The supplier each contributor is attributed to now, leaving out suspended suppliers; the seam accruals use.</summary>
    public static async Task<Dictionary<Guid, Guid>> ActiveSuppliersAsync(CrowdDb db, Guid[] contributorIds, CancellationToken ct) =>
        await db.Set<SupplierAttribution>()
            .Where(a => contributorIds.Contains(a.ContributorId) && a.DetachedAt == null
                && !db.Set<SupplierSuspension>().Any(s => s.OrganisationId == a.OrganisationId && s.ReinstatedAt == null))
            .ToDictionaryAsync(a => a.ContributorId, a => a.OrganisationId, ct);

    public static Task<bool> IsSuspendedAsync(CrowdDb db, Guid organisationId, CancellationToken ct) =>
        db.Set<SupplierSuspension>().AnyAsync(s => s.OrganisationId == organisationId && s.ReinstatedAt == null, ct);

    public static string NormaliseCode(string? code) =>
        new((code ?? "").Trim().ToUpperInvariant().Where(c => c is not ('-' or ' ')).ToArray());

    public async Task<(SupplierInvitation? Invitation, IReadOnlyList<FieldError> Errors)> CreateInvitationAsync(Guid organisationId, Guid userId,
        string? label, Guid? jobId, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        label = label?.Trim() ?? "";
        if (label.Length is 0 or > MaxLabelLength)
        {
            errors.Add(new("label", "Give the invitation a name of at most 100 characters, like the town or the course you hand it out in."));
        }
        else if (TextRules.Check("label", label, TextKind.Line) is { } labelText)
        {
            errors.Add(labelText);
        }
        if (jobId is { } job && !await db.Jobs.AnyAsync(j => j.Id == job && j.Status == JobStatus.Published, ct))
        {
            errors.Add(new("jobId", "Choose a job that is open on the job board, or leave the job empty to invite to the platform."));
        }
        if (await IsSuspendedAsync(db, organisationId, ct))
        {
            errors.Add(new("label", "Your organisation is suspended after a report; it cannot invite anyone until an admin reinstates it."));
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        var invitation = new SupplierInvitation
        {
            Id = Guid.CreateVersion7(), OrganisationId = organisationId, Code = RandomNumberGenerator.GetString(CodeAlphabet, CodeLength),
            JobId = jobId, Label = label, CreatedByUserId = userId, CreatedAt = clock.GetUtcNow(),
        };
        db.Add(invitation);
        await db.SaveChangesAsync(ct);
        return (invitation, []);
    }

    public async Task<bool> RevokeInvitationAsync(Guid organisationId, Guid invitationId, CancellationToken ct) =>
        await db.Set<SupplierInvitation>().Where(i => i.Id == invitationId && i.OrganisationId == organisationId && i.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.RevokedAt, clock.GetUtcNow()), ct) > 0;

    /// <summary>The offer behind a code, or null when the code is unknown, revoked, or its supplier is suspended (all look alike).</summary>
    public async Task<InvitationOffer?> OfferAsync(string? code, Guid? contributorId, CancellationToken ct)
    {
        var normalised = NormaliseCode(code);
        if (normalised.Length != CodeLength)
        {
            return null;
        }
        var found = await (from i in db.Set<SupplierInvitation>()
                           join o in db.Organisations on i.OrganisationId equals o.Id
                           where i.Code == normalised && i.RevokedAt == null && o.Kind == OrganisationKind.Supplier
                           select new { i.Id, i.Code, i.OrganisationId, o.Name, i.JobId }).FirstOrDefaultAsync(ct);
        if (found is null || await IsSuspendedAsync(db, found.OrganisationId, ct))
        {
            return null;
        }
        var jobTitle = found.JobId is { } jobId ? await db.Jobs.Where(j => j.Id == jobId).Select(j => j.Terms.Title).FirstOrDefaultAsync(ct) : null;
        var current = contributorId is { } id
            ? await (from a in db.Set<SupplierAttribution>()
                     join o in db.Organisations on a.OrganisationId equals o.Id
                     where a.ContributorId == id && a.DetachedAt == null
                     select o.Name).FirstOrDefaultAsync(ct)
            : null;
        return new InvitationOffer(found.Id, found.Code, found.OrganisationId, found.Name, found.JobId, jobTitle, current);
    }

    /// <summary>
    /// The contributor said yes on the attribution screen. An earlier attribution to another supplier ends first (the
    /// contributor chose the new one); saying yes to the same supplier again changes nothing.
    /// </summary>
    public async Task<InvitationOffer?> AttributeAsync(Guid contributorId, string? code, CancellationToken ct)
    {
        var offer = await OfferAsync(code, contributorId, ct);
        if (offer is null)
        {
            return null;
        }
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var current = await db.Set<SupplierAttribution>().FirstOrDefaultAsync(a => a.ContributorId == contributorId && a.DetachedAt == null, ct);
        if (current?.OrganisationId == offer.OrganisationId)
        {
            return offer;
        }
        if (current is not null)
        {
            current.DetachedAt = now;
            await db.SaveChangesAsync(ct);
            await audit.AppendAsync(new AuditEvent("user", contributorId, "supplier.detached", "organisation", current.OrganisationId.ToString(),
                "attributed to another supplier"), ct);
        }
        db.Add(new SupplierAttribution
        {
            Id = Guid.CreateVersion7(), ContributorId = contributorId, OrganisationId = offer.OrganisationId, InvitationId = offer.InvitationId,
            AttributedAt = now,
        });
        await db.SaveChangesAsync(ct);
        await audit.AppendAsync(new AuditEvent("user", contributorId, "supplier.attributed", "organisation", offer.OrganisationId.ToString(),
            "", JsonSerializer.Serialize(new { invitation = offer.InvitationId })), ct);
        await notices.InvitationUsedAsync(offer.InvitationId, ct);
        await tx.CommitAsync(ct);
        return offer;
    }

    /// <summary>Ends the contributor's attribution now; work from here on earns the supplier nothing and is not in its figures.</summary>
    public async Task<bool> DetachAsync(Guid contributorId, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var current = await db.Set<SupplierAttribution>().FirstOrDefaultAsync(a => a.ContributorId == contributorId && a.DetachedAt == null, ct);
        if (current is null)
        {
            return false;
        }
        current.DetachedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        await audit.AppendAsync(new AuditEvent("user", contributorId, "supplier.detached", "organisation", current.OrganisationId.ToString()), ct);
        await tx.CommitAsync(ct);
        return true;
    }
}
