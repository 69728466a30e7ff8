using System.Text.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Audit;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Suppliers;

public sealed record CoercionReportRequest(Guid? SupplierOrganisationId, string? NamedParty, string? Description, bool Anonymous);

/// <summary>Reports of pressure to record, and what admins do about them: suspend, reinstate, close. Every step is audited.</summary>
public sealed class CoercionReports(CrowdDb db, AuditLog audit, TimeProvider clock)
{
    public const int MaxDescription = 4000;
    public const int MaxNamedParty = 200;

    /// <summary>An admin's reason for a suspension or reinstatement, and a report's outcome.</summary>
    public const int MaxDecisionLength = 2000;

    public static List<FieldError> Validate(CoercionReportRequest request)
    {
        var errors = new List<FieldError>();
        var named = request.NamedParty?.Trim() ?? "";
        if (request.SupplierOrganisationId is null && named.Length == 0)
        {
            errors.Add(new("namedParty", "Choose the supplier, or write the name of the school or employer that pressed you."));
        }
        if (named.Length > MaxNamedParty)
        {
            errors.Add(new("namedParty", "Keep the name to at most {0} characters.", MaxNamedParty));
        }
        else if (TextRules.Check("namedParty", named, TextKind.Line) is { } namedText)
        {
            errors.Add(namedText);
        }
        var description = request.Description?.Trim() ?? "";
        if (description.Length == 0 || description.Length > MaxDescription)
        {
            errors.Add(new("description", "Describe what happened in at most {0} characters: who pressed you, how, and when.", MaxDescription));
        }
        else if (TextRules.Check("description", description, TextKind.Prose) is { } descriptionText)
        {
            errors.Add(descriptionText);
        }
        return errors;
    }

    /// <summary>
    /// Files a report. An anonymous one keeps no trace of the reporter: no id on the report, none in the audit log, and
    /// its time is kept to the day so it cannot be matched against the reporter's activity.
    /// </summary>
    public async Task<(CoercionReport? Report, IReadOnlyList<FieldError> Errors)> FileAsync(Guid reporterId, CoercionReportRequest request, CancellationToken ct)
    {
        var errors = Validate(request);
        if (request.SupplierOrganisationId is { } supplier
            && !await db.Organisations.AnyAsync(o => o.Id == supplier && o.Kind == OrganisationKind.Supplier, ct))
        {
            errors.Add(new("supplierOrganisationId", "Choose a supplier from the list, or write the name instead."));
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        var now = clock.GetUtcNow();
        var report = new CoercionReport
        {
            Id = Guid.CreateVersion7(),
            ReporterId = request.Anonymous ? null : reporterId,
            SupplierOrganisationId = request.SupplierOrganisationId,
            NamedParty = string.IsNullOrWhiteSpace(request.NamedParty) ? null : request.NamedParty.Trim(),
            Description = request.Description!.Trim(),
            CreatedAt = request.Anonymous ? new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero) : now,
        };
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.Add(report);
        await db.SaveChangesAsync(ct);
        await audit.AppendAsync(request.Anonymous
            ? new AuditEvent("anonymous", null, "coercion.reported", "coercion_report", report.Id.ToString())
            : new AuditEvent("user", reporterId, "coercion.reported", "coercion_report", report.Id.ToString()), ct);
        await tx.CommitAsync(ct);
        return (report, []);
    }

    public async Task<IReadOnlyList<FieldError>> SuspendAsync(Guid adminId, Guid reportId, string? reason, CancellationToken ct)
    {
        var report = await db.Set<CoercionReport>().FirstOrDefaultAsync(r => r.Id == reportId, ct);
        if (report?.SupplierOrganisationId is not { } supplier)
        {
            return [new("reportId", "This report names no supplier on the platform, so there is nobody to suspend.")];
        }
        if (string.IsNullOrWhiteSpace(reason) || reason.Trim().Length > MaxDecisionLength)
        {
            return [new("reason", "Give the reason for the suspension (at most 2000 characters); it is kept in the audit trail.")];
        }
        if (TextRules.Check("reason", reason, TextKind.Prose) is { } reasonText)
        {
            return [reasonText];
        }
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (await SupplierAttributions.IsSuspendedAsync(db, supplier, ct))
        {
            return [new("reportId", "This supplier is already suspended.")];
        }
        db.Add(new SupplierSuspension
        {
            Id = Guid.CreateVersion7(), OrganisationId = supplier, ReportId = reportId, Reason = reason.Trim(), SuspendedAt = clock.GetUtcNow(),
            SuspendedByUserId = adminId,
        });
        await db.SaveChangesAsync(ct);
        await audit.AppendAsync(new AuditEvent("user", adminId, "supplier.suspended", "organisation", supplier.ToString(), reason.Trim(),
            JsonSerializer.Serialize(new { report = reportId })), ct);
        await tx.CommitAsync(ct);
        return [];
    }

    public async Task<IReadOnlyList<FieldError>> ReinstateAsync(Guid adminId, Guid supplierId, string? reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason) || reason.Trim().Length > MaxDecisionLength)
        {
            return [new("reason", "Give the reason for reinstating the supplier (at most 2000 characters); it is kept in the audit trail.")];
        }
        if (TextRules.Check("reason", reason, TextKind.Prose) is { } reasonText)
        {
            return [reasonText];
        }
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var suspension = await db.Set<SupplierSuspension>().FirstOrDefaultAsync(s => s.OrganisationId == supplierId && s.ReinstatedAt == null, ct);
        if (suspension is null)
        {
            return [new("supplierId", "This supplier is not suspended.")];
        }
        suspension.ReinstatedAt = clock.GetUtcNow();
        suspension.ReinstatedByUserId = adminId;
        await db.SaveChangesAsync(ct);
        await audit.AppendAsync(new AuditEvent("user", adminId, "supplier.reinstated", "organisation", supplierId.ToString(), reason.Trim()), ct);
        await tx.CommitAsync(ct);
        return [];
    }

    public async Task<IReadOnlyList<FieldError>> CloseAsync(Guid adminId, Guid reportId, string? outcome, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(outcome) || outcome.Trim().Length > MaxDecisionLength)
        {
            return [new("outcome", "Write the outcome (at most 2000 characters): what was found and what was done.")];
        }
        if (TextRules.Check("outcome", outcome, TextKind.Prose) is { } outcomeText)
        {
            return [outcomeText];
        }
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var report = await db.Set<CoercionReport>().FirstOrDefaultAsync(r => r.Id == reportId && r.ClosedAt == null, ct);
        if (report is null)
        {
            return [new("reportId", "This report is already closed or does not exist.")];
        }
        report.ClosedAt = clock.GetUtcNow();
        report.ClosedByUserId = adminId;
        report.Outcome = outcome.Trim();
        await db.SaveChangesAsync(ct);
        await audit.AppendAsync(new AuditEvent("user", adminId, "coercion.closed", "coercion_report", reportId.ToString(), outcome.Trim()), ct);
        await tx.CommitAsync(ct);
        return [];
    }
}
