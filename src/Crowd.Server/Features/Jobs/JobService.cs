using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs.Assessments;
using Crowd.Server.Features.Notifications;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Crowd.Server.Features.Jobs;

public enum JobOutcomeKind
{
    Ok,
    NotFound,
    Invalid,
    NoFloor,
    BelowFloor,
    Closed,
    Conflict,
    /// <summary>The escrow does not yet hold the job's budget; the job cannot go live.</summary>
    Unfunded,
    /// <summary>No approved impact assessment covers the terms; they cannot be published.</summary>
    NoAssessment,
}

public sealed record JobOutcome(JobOutcomeKind Kind, Job? Job = null, IReadOnlyList<FieldError>? Errors = null, Money? Floor = null)
{
    public static JobOutcome Ok(Job job) => new(JobOutcomeKind.Ok, job);

    public static JobOutcome Invalid(IReadOnlyList<FieldError> errors) => new(JobOutcomeKind.Invalid, Errors: errors);

    public static readonly JobOutcome NotFound = new(JobOutcomeKind.NotFound);
    public static readonly JobOutcome Closed = new(JobOutcomeKind.Closed);
    public static readonly JobOutcome Conflict = new(JobOutcomeKind.Conflict);
}

/// <summary>
/// Creates, edits, publishes and closes jobs; shared by the API and the pages. Every query is scoped to the
/// caller's organisation, so another organisation's job is simply not found.
/// </summary>
public sealed class JobService(CrowdDb db, TimeProvider clock, IStringLocalizer<RateFloorsText> floorText, EscrowService escrow,
    StripeRefunds refunds, Notifications.Notifications notifications, IOptions<CrowdOptions> options)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary>A new draft with the request's terms, and its budget and prompts when it has them.</summary>
    public async Task<JobOutcome> CreateDraftAsync(Guid organisationId, Guid userId, JobRequest request, PromptSet? prompts, CancellationToken ct)
    {
        var terms = JobTerms.Defaults.With(request);
        if (await TermsErrorsAsync(terms, null, request.TargetHours, ct) is { Count: > 0 } errors)
        {
            return JobOutcome.Invalid(errors);
        }
        var (feeErrors, budget) = PlanBudget(request, null, published: false);
        if (feeErrors.Count > 0)
        {
            return JobOutcome.Invalid(feeErrors);
        }
        var now = clock.GetUtcNow();
        var job = new Job
        {
            Id = Guid.CreateVersion7(), OrganisationId = organisationId, CreatedByUserId = userId, Status = JobStatus.Draft, Terms = terms,
            PeerValidation = request.PeerValidation ?? false, CreatedAt = now, UpdatedAt = now,
        };
        if (prompts is not null)
        {
            job.PromptCount = prompts.Prompts.Count;
            job.PromptsSha256 = prompts.Sha256;
        }
        db.Jobs.Add(job);
        return await WriteAsync(job, budget, prompts, ct);
    }

    /// <summary>
    /// Edits a job's terms, peer validation and budget, and replaces its prompts when given. A published job whose terms
    /// (or prompts) actually change is re-checked against its floor and published as the next version; an edit that
    /// changes nothing writes nothing.
    /// </summary>
    public async Task<JobOutcome> EditAsync(Guid organisationId, Guid id, JobRequest request, PromptSet? prompts, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var job = await db.Jobs.SingleOrDefaultAsync(j => j.Id == id && j.OrganisationId == organisationId, ct);
        if (job is null)
        {
            return JobOutcome.NotFound;
        }
        if (job.Status == JobStatus.Closed)
        {
            return JobOutcome.Closed;
        }

        // Peer validation is a review setting, not one of the consented terms: changing it never makes a new version.
        var peerValidationChange = request.PeerValidation is { } peerValidation && peerValidation != job.PeerValidation;
        job.PeerValidation = request.PeerValidation ?? job.PeerValidation;
        var terms = job.Terms.With(request);
        if (await TermsErrorsAsync(terms, job.Terms, request.TargetHours, ct) is { Count: > 0 } errors)
        {
            return JobOutcome.Invalid(errors);
        }
        var (feeErrors, budget) = PlanBudget(request, await BudgetAsync(job.Id, ct), job.Status == JobStatus.Published);
        if (feeErrors.Count > 0)
        {
            return JobOutcome.Invalid(feeErrors);
        }
        var promptsChange = prompts is not null && (prompts.Sha256 != job.PromptsSha256 || prompts.Prompts.Count != job.PromptCount);
        ImpactAssessment? assessment = null;
        if (job.Status == JobStatus.Published)
        {
            if (terms == job.Terms && !promptsChange)
            {
                if (peerValidationChange && !await TrySaveAsync(ct))
                {
                    return JobOutcome.Conflict;
                }
                // Target hours are the requester's budget, not a term contributors consent to: no new version.
                return budget is null ? JobOutcome.Ok(job) : await SaveBudgetOnlyAsync(job, budget, ct);
            }
            if (await CheckFloorAsync(terms, ct) is { } refused)
            {
                return refused;
            }
            assessment = await ImpactAssessments.LatestAsync(db, job.Id, ct);
            if (AssessmentRules.PublishRefusal(assessment, terms.PurposeSpeechRecognition, terms.PurposeVoiceCloning) is { } missing)
            {
                return new JobOutcome(JobOutcomeKind.NoAssessment, Errors: [missing]);
            }
        }

        job.Terms = terms;
        job.UpdatedAt = now;
        if (promptsChange)
        {
            job.PromptCount = prompts!.Prompts.Count;
            job.PromptsSha256 = prompts.Sha256;
        }
        if (job.Status == JobStatus.Published)
        {
            job.Version++;
            db.JobVersions.Add(Snapshot(job, now, assessment!.Id));
        }
        return await WriteAsync(job, budget, promptsChange ? prompts : null, ct);
    }

    /// <summary>Replaces a job's prompts; for a published job, new prompts are new terms and publish the next version.</summary>
    public Task<JobOutcome> ReplacePromptsAsync(Guid organisationId, Guid id, PromptSet prompts, CancellationToken ct) =>
        EditAsync(organisationId, id, new JobRequest(), prompts, ct);

    /// <summary>Sets the hours a job's budget pays for, keeping its fees; null when the organisation has no such job.</summary>
    public async Task<IReadOnlyList<FieldError>?> SetBudgetAsync(Guid organisationId, Guid id, int targetHours, CancellationToken ct)
    {
        if (!await db.Jobs.AnyAsync(j => j.Id == id && j.OrganisationId == organisationId, ct))
        {
            return null;
        }
        var existing = await BudgetAsync(id, ct);
        return await SaveBudgetAsync(id, new BudgetChange(targetHours, existing?.SupplierFeeBp ?? 0, existing), ct);
    }

    /// <summary>The terms' own errors and the target hours'. A rate is held against its region's ceiling when it is new or changes.</summary>
    private async Task<List<FieldError>> TermsErrorsAsync(JobTerms terms, JobTerms? before, int? targetHours, CancellationToken ct)
    {
        var errors = JobRules.Validate(terms);
        errors.AddRange(JobRules.ValidateTargetHours(targetHours, required: false));
        if (errors.Count == 0 && (before is null || (terms.HourlyRateMinor, terms.Currency, terms.Region) != (before.HourlyRateMinor, before.Currency, before.Region))
            && await AboveCeilingAsync(terms, ct) is { } tooHigh)
        {
            errors.Add(tooHigh);
        }
        return errors;
    }

    private sealed record BudgetChange(int TargetHours, int SupplierFeeBp, JobBudget? Existing);

    private Task<JobBudget?> BudgetAsync(Guid jobId, CancellationToken ct) =>
        db.Set<JobBudget>().AsNoTracking().FirstOrDefaultAsync(b => b.JobId == jobId, ct);

    /// <summary>The budget the request asks for: null when it leaves the budget as it is.</summary>
    private static (List<FieldError> Errors, BudgetChange? Change) PlanBudget(JobRequest request, JobBudget? budget, bool published)
    {
        var targetHours = request.TargetHours ?? budget?.TargetHours;
        var errors = JobRules.ValidateSupplierFee(request.SupplierFeeBp, budget?.SupplierFeeBp, targetHours, published);
        var supplierFeeBp = request.SupplierFeeBp ?? budget?.SupplierFeeBp ?? 0;
        var changed = (request.TargetHours is { } hours && hours != budget?.TargetHours) || supplierFeeBp != (budget?.SupplierFeeBp ?? 0);
        return (errors, errors.Count == 0 && changed ? new BudgetChange(targetHours!.Value, supplierFeeBp, budget) : null);
    }

    /// <summary>The job, its budget and its prompts in one transaction: a budget the escrow refuses writes none of them.</summary>
    private async Task<JobOutcome> WriteAsync(Job job, BudgetChange? budget, PromptSet? prompts, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (!await TrySaveAsync(ct))
        {
            return JobOutcome.Conflict;
        }
        if (budget is not null && await SaveBudgetAsync(job.Id, budget, ct) is { Count: > 0 } budgetErrors)
        {
            await transaction.RollbackAsync(ct);
            return JobOutcome.Invalid(budgetErrors);
        }
        if (prompts is not null)
        {
            await WritePromptsAsync(job.Id, prompts, ct);
        }
        if (job.Status == JobStatus.Published)
        {
            await TellConsentersOfNewTermsAsync(job, ct);
        }
        await transaction.CommitAsync(ct);
        return JobOutcome.Ok(job);
    }

    /// <summary>Everyone whose consent rests on an earlier version must consent again to record more; they are told once per version.</summary>
    private async Task TellConsentersOfNewTermsAsync(Job job, CancellationToken ct)
    {
        var consenters = await db.Consents.AsNoTracking()
            .Where(c => c.JobId == job.Id && c.JobVersion < job.Version && c.WithdrawnAt == null)
            .Select(c => c.ContributorId).Distinct().ToListAsync(ct);
        var about = new NotificationData { JobId = job.Id, JobTitle = job.Terms.Title, Version = job.Version };
        await notifications.NotifyManyAsync(NotificationKind.ConsentNeededAgain,
            consenters.Select(c => new NotificationRecipient(c, about, $"terms:{job.Id}:{job.Version}")).ToList(), ct);
    }

    private async Task<JobOutcome> SaveBudgetOnlyAsync(Job job, BudgetChange budget, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var errors = await SaveBudgetAsync(job.Id, budget, ct);
        if (errors.Count > 0)
        {
            return JobOutcome.Invalid(errors);
        }
        await transaction.CommitAsync(ct);
        return JobOutcome.Ok(job);
    }

    /// <summary>A new budget takes today's platform fee; an existing one keeps the platform fee it was agreed with.</summary>
    private Task<IReadOnlyList<FieldError>> SaveBudgetAsync(Guid jobId, BudgetChange budget, CancellationToken ct) =>
        escrow.SetBudgetAsync(jobId, budget.TargetHours, budget.Existing?.PlatformFeeBp ?? options.Value.Payouts.PlatformFeeBp, budget.SupplierFeeBp, ct);

    public async Task<JobOutcome> PublishAsync(Guid organisationId, Guid id, CancellationToken ct)
    {
        var job = await db.Jobs.SingleOrDefaultAsync(j => j.Id == id && j.OrganisationId == organisationId, ct);
        switch (job?.Status)
        {
            case null:
                return JobOutcome.NotFound;
            case JobStatus.Closed:
                return JobOutcome.Closed;
            case JobStatus.Published:
                return JobOutcome.Ok(job);
        }

        var terms = job.Terms;
        var errors = JobRules.Validate(terms);
        if (job.PromptCount == 0)
        {
            errors.Add(new(PromptParsing.Field, "Add at least one prompt before publishing."));
        }
        var targetHours = await db.Set<JobBudget>().Where(b => b.JobId == id).Select(b => (int?)b.TargetHours).FirstOrDefaultAsync(ct);
        errors.AddRange(JobRules.ValidateTargetHours(targetHours, required: true));
        if (errors.Count > 0)
        {
            return JobOutcome.Invalid(errors);
        }
        if (await CheckFloorAsync(terms, ct) is { } refused)
        {
            return refused;
        }
        var funding = (await JobFunding.StatusAsync(db, id, ct))!;
        if (!funding.Covered)
        {
            return new JobOutcome(JobOutcomeKind.Unfunded, Errors: [Unfunded(funding)]);
        }
        // Last, so that every other reason is named first: the assessment is reviewed against the job as it will go live.
        var assessment = await ImpactAssessments.LatestAsync(db, id, ct);
        if (AssessmentRules.PublishRefusal(assessment, terms.PurposeSpeechRecognition, terms.PurposeVoiceCloning) is { } missing)
        {
            return new JobOutcome(JobOutcomeKind.NoAssessment, Errors: [missing]);
        }

        var now = clock.GetUtcNow();
        job.Status = JobStatus.Published;
        job.Version++;
        job.PublishedAt = now;
        job.UpdatedAt = now;
        db.JobVersions.Add(Snapshot(job, now, assessment!.Id));
        return await TrySaveAsync(ct) ? JobOutcome.Ok(job) : JobOutcome.Conflict;
    }

    /// <summary>
    /// Everything that would keep a job with these terms from being published now, all at once, while its requester is
    /// still typing (publishing itself stops at the first kind of problem). The escrow and the assessment are those of
    /// the saved job; a job not saved yet has neither.
    /// </summary>
    public async Task<List<FieldError>> PublishProblemsAsync(Guid organisationId, Guid? id, JobRequest request, bool hasPrompts, CancellationToken ct)
    {
        var terms = JobTerms.Defaults.With(request);
        var errors = JobRules.Validate(terms);
        if (!hasPrompts)
        {
            errors.Add(new(PromptParsing.Field, "Add at least one prompt before publishing."));
        }
        errors.AddRange(JobRules.ValidateTargetHours(request.TargetHours, required: true));
        if (!errors.Any(e => e.Field is "hourlyRate" or "region" or "currency") && await CheckFloorAsync(terms, ct) is { Errors: { } floor })
        {
            errors.AddRange(floor);
        }
        var job = id is null ? null : await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id && j.OrganisationId == organisationId, ct);
        if (job is null)
        {
            errors.Add(new("escrow", "Save the job, then fund its escrow: it goes live only when the escrow holds the budget."));
        }
        else if (await JobFunding.StatusAsync(db, job.Id, ct) is { Covered: false } funding)
        {
            errors.Add(Unfunded(funding));
        }
        var assessment = job is null ? null : await ImpactAssessments.LatestAsync(db, job.Id, ct);
        if (AssessmentRules.PublishRefusal(assessment, terms.PurposeSpeechRecognition, terms.PurposeVoiceCloning) is { } missing)
        {
            errors.Add(missing);
        }
        return errors;
    }

    private static FieldError Unfunded(FundingStatus funding)
    {
        var needed = new Money(MoneyMath.Subtract(funding.Remaining.Minor, Math.Max(0, funding.Escrow.Minor), "escrow"), funding.Remaining.Currency);
        return new("escrow", "Fund the job's escrow before publishing: {0} of {1} is still needed.", Currencies.Format(needed), Currencies.Format(funding.Budget));
    }

    public async Task<JobOutcome> CloseAsync(Guid organisationId, Guid id, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await db.Jobs.Where(j => j.Id == id && j.OrganisationId == organisationId && j.Status != JobStatus.Closed)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Closed).SetProperty(j => j.UpdatedAt, now).SetProperty(j => j.ClosedAt, now), ct);
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id && j.OrganisationId == organisationId, ct);
        if (job is null)
        {
            return JobOutcome.NotFound;
        }
        await ImpactAssessments.KeepAfterCloseAsync(db, job.Id, job.ClosedAt ?? now, ct);
        // Closing again is harmless: a refund of an empty escrow moves nothing.
        await escrow.RefundOnCloseAsync(job.Id, ct);
        await refunds.SendPendingAsync(job.Id, ct);
        return JobOutcome.Ok(job);
    }

    /// <summary>The floor that applies to these terms now, or null when there is none.</summary>
    public Task<RateFloor?> FloorForAsync(string region, string currency, CancellationToken ct) =>
        db.RateFloors.AsNoTracking().SingleOrDefaultAsync(f => f.Region == region && f.Currency == currency, ct);

    private async Task<JobOutcome?> CheckFloorAsync(JobTerms terms, CancellationToken ct)
    {
        var floor = await FloorForAsync(terms.Region, terms.Currency, ct);
        if (floor is null)
        {
            var known = await db.RateFloors.AsNoTracking().OrderBy(f => f.Region).Select(f => f.Region + " (" + f.Currency + ")").ToListAsync(ct);
            return new JobOutcome(JobOutcomeKind.NoFloor, Errors:
            [
                new("region", "There is no rate floor for {0} in {1}, so the job cannot be published. Floors exist for: {2}.",
                    terms.Region, terms.Currency, string.Join(", ", known)),
            ]);
        }
        if (!PayFloor.IsUnderCeiling(terms.HourlyRate, floor))
        {
            return JobOutcome.Invalid([AboveCeiling(terms.HourlyRate, floor, floorText)]);
        }
        if (PayFloor.IsMetBy(terms.HourlyRate, floor))
        {
            return null;
        }
        var minimum = PayFloor.Of(floor);
        return new JobOutcome(JobOutcomeKind.BelowFloor, Floor: minimum, Errors:
        [
            BelowFloor(terms.HourlyRate, floor, floorText),
        ]);
    }

    /// <summary>A rate above its region's ceiling (100 × the floor), or null when there is no floor yet or the rate is under it.</summary>
    private async Task<FieldError?> AboveCeilingAsync(JobTerms terms, CancellationToken ct) =>
        await FloorForAsync(terms.Region, terms.Currency, ct) is { } floor && !PayFloor.IsUnderCeiling(terms.HourlyRate, floor)
            ? AboveCeiling(terms.HourlyRate, floor, floorText)
            : null;

    public static FieldError AboveCeiling(Money rate, RateFloor floor, IStringLocalizer floorText) =>
        new("hourlyRate", "The hourly rate {0} is more than {1} times the floor for {2} ({3}): at most {4}. Check the figure: it looks like a typing mistake.",
            Currencies.Format(rate), JobRules.MaxRateToFloorRatio, floorText[floor.RegionName].Value, floor.Region, Currencies.Format(PayFloor.Ceiling(floor)));

    public static FieldError BelowFloor(Money rate, RateFloor floor, IStringLocalizer floorText) =>
        new("hourlyRate", "The hourly rate {0} is below the floor for {1} ({2}): {3}. Raise the rate to at least {3}.",
            Currencies.Format(rate), floorText[floor.RegionName].Value, floor.Region, Currencies.Format(PayFloor.Of(floor)));

    private async Task<bool> TrySaveAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateConcurrencyException)
        {
            return false;
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // Two publications raced to the same version number; the loser reloads and sees the winner's terms.
            return false;
        }
    }

    /// <summary>Replaces a job's prompts inside the caller's transaction. Binary COPY: 100,000 rows in well under a second.</summary>
    private async Task WritePromptsAsync(Guid jobId, PromptSet prompts, CancellationToken ct)
    {
        await db.Prompts.Where(p => p.JobId == jobId).ExecuteDeleteAsync(ct);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await using var import = await connection.BeginBinaryImportAsync(
            "COPY prompts (id, job_id, ordinal, text, external_ref) FROM STDIN (FORMAT BINARY)", ct);
        var ordinal = 0;
        foreach (var prompt in prompts.Prompts)
        {
            await import.StartRowAsync(ct);
            await import.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid, ct);
            await import.WriteAsync(jobId, NpgsqlDbType.Uuid, ct);
            await import.WriteAsync(++ordinal, NpgsqlDbType.Integer, ct);
            await import.WriteAsync(prompt.Text, NpgsqlDbType.Text, ct);
            if (prompt.ExternalRef is null)
            {
                await import.WriteNullAsync(ct);
            }
            else
            {
                await import.WriteAsync(prompt.ExternalRef, NpgsqlDbType.Text, ct);
            }
        }
        await import.CompleteAsync(ct);
    }

    /// <summary>Every term a contributor consents to, serialised once; the hash is over exactly these bytes.</summary>
    private static JobVersion Snapshot(Job job, DateTimeOffset now, Guid assessmentId)
    {
        var t = job.Terms;
        var terms = new ConsentTerms(
            job.Id, t.Title, t.Description, t.Language, t.BuyerName, new ConsentPurposes(t.PurposeSpeechRecognition, t.PurposeVoiceCloning),
            t.RetentionDays, t.HourlyRate, t.Region, t.EstimatedSecondsPerClip, new ConsentClipRange(t.ClipMinMs, t.ClipMaxMs),
            t.TakesPerPrompt, new ConsentThresholds(t.MinSnrDb, t.MaxClippingRatio, t.MinSpeechRatio), t.EnvironmentNotes,
            job.PromptCount, job.PromptsSha256);
        var json = JsonSerializer.Serialize(terms, s_json);
        return new JobVersion
        {
            JobId = job.Id,
            Version = job.Version,
            TermsJson = json,
            TermsSha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json))),
            PublishedAt = now,
            PurposeSpeechRecognition = t.PurposeSpeechRecognition,
            PurposeVoiceCloning = t.PurposeVoiceCloning,
            ImpactAssessmentId = assessmentId,
        };
    }
}

public sealed record ConsentTerms(
    Guid JobId, string Title, string Description, string Language, string Buyer, ConsentPurposes Purposes, int RetentionDays,
    Money HourlyRate, string Region, int EstimatedSecondsPerClip, ConsentClipRange Clip, int TakesPerPrompt,
    ConsentThresholds Thresholds, string EnvironmentNotes, int PromptCount, string PromptsSha256);

public sealed record ConsentPurposes(bool SpeechRecognition, bool VoiceCloning);

public sealed record ConsentClipRange(int MinMs, int MaxMs);

public sealed record ConsentThresholds(double MinSnrDb, double MaxClippingRatio, double MinSpeechRatio);
