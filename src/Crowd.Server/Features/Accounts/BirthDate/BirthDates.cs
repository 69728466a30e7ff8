using System.Text.Json;
using Crowd.Server.Features.Audit;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crowd.Server.Features.Accounts.BirthDate;

public enum BirthDateOutcomeKind
{
    Changed,
    /// <summary>The person has consented before: the change waits for an admin.</summary>
    Requested,
    Invalid,
    NotFound,
}

public sealed record BirthDateOutcome(BirthDateOutcomeKind Kind, IReadOnlyList<FieldError>? Errors = null);

/// <summary>What a date-of-birth change must satisfy. Pure.</summary>
public static class BirthDateRules
{
    public const int MaxReasonLength = 1000;

    public static List<FieldError> Validate(DateOnly? requested, DateOnly current, string? reason, bool needsReview, DateOnly today)
    {
        var errors = new List<FieldError>();
        if (requested is not { } born)
        {
            errors.Add(new("dateOfBirth", "Enter your date of birth."));
        }
        else if (born > today)
        {
            errors.Add(new("dateOfBirth", "The date of birth is in the future."));
        }
        else if (born < today.AddYears(-120))
        {
            errors.Add(new("dateOfBirth", "Check the year of your date of birth."));
        }
        else if (born == current)
        {
            errors.Add(new("dateOfBirth", "That is already your date of birth."));
        }
        if (needsReview && string.IsNullOrWhiteSpace(reason))
        {
            errors.Add(new("reason", "Say why the date on your account is wrong, so that an admin can check it."));
        }
        else if (reason?.Trim().Length > MaxReasonLength)
        {
            errors.Add(new("reason", "Keep the reason to {0} characters or fewer.", MaxReasonLength));
        }
        else if (TextRules.Check("reason", reason, TextKind.Prose) is { } reasonText)
        {
            errors.Add(reasonText);
        }
        return errors;
    }
}

/// <summary>
/// A contributor's date of birth decides whether a guardian must consent for them. Until their first consent (or
/// guardian request) they correct it themselves; after that a change is a request an admin approves or rejects.
/// </summary>
public sealed class BirthDates(CrowdDb db, AuditLog audit, TimeProvider clock)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary>Whether the date is locked: the person has consented to a job, or asked a guardian to, at any time.</summary>
    public async Task<bool> LockedAsync(Guid userId, CancellationToken ct) =>
        await db.Consents.AnyAsync(c => c.ContributorId == userId, ct) || await db.GuardianConsents.AnyAsync(g => g.ContributorId == userId, ct);

    public Task<BirthDateChange?> PendingAsync(Guid userId, CancellationToken ct) =>
        db.BirthDateChanges.AsNoTracking().SingleOrDefaultAsync(c => c.UserId == userId && c.DecidedAt == null, ct);

    public async Task<BirthDateOutcome> ChangeAsync(Guid userId, DateOnly? requested, string? reason, CancellationToken ct)
    {
        var current = await db.Users.Where(u => u.Id == userId).Select(u => (DateOnly?)u.DateOfBirth).SingleOrDefaultAsync(ct);
        if (current is null)
        {
            return new(BirthDateOutcomeKind.NotFound);
        }
        var locked = await LockedAsync(userId, ct);
        var errors = BirthDateRules.Validate(requested, current.Value, reason, locked, DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime));
        if (errors.Count > 0)
        {
            return new(BirthDateOutcomeKind.Invalid, errors);
        }
        if (!locked)
        {
            await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.DateOfBirth, requested!.Value), ct);
            return new(BirthDateOutcomeKind.Changed);
        }

        var change = new BirthDateChange
        {
            Id = Guid.CreateVersion7(),
            UserId = userId,
            CurrentDateOfBirth = current.Value,
            RequestedDateOfBirth = requested!.Value,
            Reason = reason!.Trim(),
            RequestedAt = clock.GetUtcNow(),
        };
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.BirthDateChanges.Add(change);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return new(BirthDateOutcomeKind.Invalid, [new("dateOfBirth", "You already asked for a change that is waiting for review.")]);
        }
        db.Entry(change).State = EntityState.Detached;
        await audit.AppendAsync(new AuditEvent("user", userId, "birthdate.change_requested", "user", userId.ToString(),
            Details: JsonSerializer.Serialize(new { changeId = change.Id }, s_json)), ct);
        await tx.CommitAsync(ct);
        return new(BirthDateOutcomeKind.Requested);
    }

    /// <summary>An admin's decision on an open request; an approval changes the date. False when the request is not open.</summary>
    public async Task<bool> DecideAsync(Guid changeId, Guid adminId, bool approve, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var change = await db.BirthDateChanges.AsNoTracking().SingleOrDefaultAsync(c => c.Id == changeId && c.DecidedAt == null, ct);
        var decided = change is null ? 0 : await db.BirthDateChanges.Where(c => c.Id == changeId && c.DecidedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.DecidedAt, now).SetProperty(c => c.DecidedBy, adminId).SetProperty(c => c.Approved, approve), ct);
        if (decided == 0)
        {
            return false;
        }
        if (approve)
        {
            await db.Users.Where(u => u.Id == change!.UserId).ExecuteUpdateAsync(s => s.SetProperty(u => u.DateOfBirth, change!.RequestedDateOfBirth), ct);
        }
        await audit.AppendAsync(new AuditEvent("user", adminId, "birthdate.change_decided", "user", change!.UserId.ToString(),
            Details: JsonSerializer.Serialize(new { changeId, approved = approve }, s_json)), ct);
        await tx.CommitAsync(ct);
        return true;
    }
}

/// <summary>Texts of the date-of-birth pages. Translations in BirthDateText.zh-Hans.resx.</summary>
public sealed class BirthDateText;
