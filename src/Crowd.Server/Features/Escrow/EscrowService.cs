using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Escrow;

public enum FundingOutcome
{
    Recorded,
    /// <summary>The same transfer reference was recorded before; nothing changed.</summary>
    AlreadyRecorded,
    Refused,
}

public sealed record FundingResult(FundingOutcome Outcome, IReadOnlyList<FieldError> Errors, Money? Escrow = null);

/// <summary>Money into a job's escrow (bank transfer recorded by an admin, or a Stripe PaymentIntent) and back out when it closes.</summary>
public sealed class EscrowService(CrowdDb db, TimeProvider time, ILogger<EscrowService> logger)
{
    public async Task<IReadOnlyList<FieldError>> SetBudgetAsync(Guid jobId, int targetHours, int platformFeeBp, int supplierFeeBp,
        CancellationToken ct = default)
    {
        var errors = BudgetRules.Validate(targetHours, platformFeeBp, supplierFeeBp).ToList();
        var job = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => new { j.Terms.HourlyRateMinor, j.Terms.Currency }).FirstOrDefaultAsync(ct);
        if (job is null)
        {
            errors.Add(new FieldError("jobId", "There is no such job."));
        }
        else if (errors.Count == 0)
        {
            errors.AddRange(BudgetRules.ValidateTotal(targetHours, job.HourlyRateMinor, platformFeeBp, supplierFeeBp, job.Currency, "targetHours"));
        }
        if (errors.Count > 0)
        {
            return errors;
        }
        var budget = await db.Set<JobBudget>().FirstOrDefaultAsync(b => b.JobId == jobId, ct);
        if (budget is null)
        {
            budget = new JobBudget { JobId = jobId };
            db.Add(budget);
        }
        budget.TargetHours = targetHours;
        budget.PlatformFeeBp = platformFeeBp;
        budget.SupplierFeeBp = supplierFeeBp;
        budget.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return [];
    }

    /// <summary>An admin saw a bank transfer for a job arrive. The bank's reference makes recording it twice harmless.</summary>
    public Task<FundingResult> RecordBankTransferAsync(Guid jobId, Money amount, string reference, Guid adminUserId, CancellationToken ct = default) =>
        FundAsync(jobId, amount, reference, $"funding:bank:{reference.Trim()}", $"bank transfer {reference.Trim()} recorded by {adminUserId}", ct);

    /// <summary>A succeeded Stripe PaymentIntent for a job (Stripe mode); the PaymentIntent id makes it once only.</summary>
    public Task<FundingResult> RecordStripePaymentAsync(Guid jobId, Money amount, string paymentIntentId, CancellationToken ct = default) =>
        FundAsync(jobId, amount, paymentIntentId, $"funding:stripe:{paymentIntentId}", $"Stripe PaymentIntent {paymentIntentId}", ct);

    /// <summary>Returns a closed job's unused escrow to the requester (recorded as money leaving the platform).</summary>
    public async Task<Money?> RefundOnCloseAsync(Guid jobId, CancellationToken ct = default)
    {
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct);
        if (job is null || job.Status != JobStatus.Closed)
        {
            logger.LogWarning("Escrow refund for job {JobId} refused: the job is not closed", jobId);
            return null;
        }
        var now = time.GetUtcNow();
        return await db.InTransactionAsync(async () =>
        {
            await LockAsync(jobId, ct);
            var (repaid, refunded) = EscrowRules.Release(await LedgerQueries.EscrowAsync(db, jobId, ct));
            if (repaid + refunded == 0)
            {
                return new Money(0, job.Terms.Currency);
            }
            var reference = $"refund job {jobId}";
            var count = await db.Set<LedgerTransaction>().LongCountAsync(t => t.Kind == LedgerTransactionKind.EscrowRefunded && t.Reference == reference, ct);
            // What the platform advanced on the job is repaid from its escrow before the rest goes back to the requester.
            var lines = new List<LedgerLine> { new(AccountRef.Escrow(jobId, job.Terms.Currency), -(repaid + refunded)) };
            if (repaid > 0)
            {
                lines.Add(new LedgerLine(AccountRef.Advance(jobId, job.Terms.Currency), repaid));
            }
            if (refunded > 0)
            {
                lines.Add(new LedgerLine(AccountRef.External(job.Terms.Currency), refunded));
            }
            await LedgerWriter.PostAsync(db, new LedgerPosting(Guid.CreateVersion7(), LedgerTransactionKind.EscrowRefunded, $"refund job {jobId}",
                $"refund:{jobId}:{count + 1}", lines), now, ct);
            var refund = new Money(refunded, job.Terms.Currency);
            if (refunded == 0)
            {
                return refund;
            }
            await QueueStripeRefundsAsync(jobId, refund, now, ct);
            db.Add(new EscrowNotice
            {
                Id = Guid.CreateVersion7(), JobId = jobId, OrganisationId = job.OrganisationId, CreatedAt = now,
                Message = JobFunding.RefundedMessage,
            });
            await db.SaveChangesAsync(ct);
            logger.LogInformation("Refunded {Amount} of unused escrow for closed job {JobId}", refund, jobId);
            return refund;
        }, ct);
    }

    /// <summary>
    /// Serialises every change to one job's escrow (accruals, fundings, refunds) inside the caller's transaction, so that
    /// the balance read after it is the one the posting changes, and the database's bounds are never hit by a race.
    /// </summary>
    internal static Task LockAsync(CrowdDb db, Guid jobId, CancellationToken ct) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended('escrow:' || {jobId}::text, 0))", ct);

    private Task LockAsync(Guid jobId, CancellationToken ct) => LockAsync(db, jobId, ct);
    // Escrow that came by Stripe goes back to the PaymentIntents it came from, newest first; the rest came by bank transfer
    // and goes back the same way. StripeRefunds sends the queued ones.
    private async Task QueueStripeRefundsAsync(Guid jobId, Money amount, DateTimeOffset now, CancellationToken ct)
    {
        var refundable = await db.Database.SqlQuery<RefundableIntent>($"""
            WITH funded AS (
                SELECT substr(t.idempotency_key, length('funding:stripe:') + 1) AS intent, sum(e.amount_minor)::bigint AS amount, min(t.created_at) AS at
                FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
                WHERE t.idempotency_key LIKE 'funding:stripe:%'
                  AND e.account_id = ledger_account_id({(int)LedgerAccountKind.Escrow}, {jobId}, {amount.Currency}) AND e.amount_minor > 0
                GROUP BY 1
            ), refunded AS (
                SELECT payment_intent_id AS intent, sum(amount_minor)::bigint AS amount FROM escrow_refunds
                WHERE job_id = {jobId} AND state <> {(int)EscrowRefundState.Failed} GROUP BY 1
            )
            SELECT f.intent AS "Intent", f.amount - coalesce(r.amount, 0) AS "Amount" FROM funded f LEFT JOIN refunded r USING (intent)
            WHERE f.amount - coalesce(r.amount, 0) > 0
            ORDER BY f.at DESC, f.intent
            """).ToListAsync(ct);
        var left = amount.Minor;
        foreach (var (intent, available) in refundable)
        {
            var part = Math.Min(left, available);
            if (part <= 0)
            {
                break;
            }
            db.Add(new EscrowRefund
            {
                Id = Guid.CreateVersion7(), JobId = jobId, PaymentIntentId = intent, Currency = amount.Currency, AmountMinor = part,
                State = EscrowRefundState.Pending, CreatedAt = now,
            });
            left -= part;
        }
    }

    private async Task<FundingResult> FundAsync(Guid jobId, Money amount, string reference, string key, string description, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct);
        if (job is null)
        {
            errors.Add(new FieldError("jobId", "There is no such job."));
        }
        else if (amount.Currency != job.Terms.Currency)
        {
            errors.Add(new FieldError("currency", "This job is paid in {0}; record the transfer in {0}.", job.Terms.Currency));
        }
        errors.AddRange(EscrowRules.ValidateFunding(amount.Minor, amount.Currency));
        if (string.IsNullOrWhiteSpace(reference) || reference.Length > EscrowRules.MaxBankReferenceLength)
        {
            errors.Add(new FieldError("reference", "Enter the bank's reference for the transfer (at most 150 characters)."));
        }
        else if (TextRules.Check("reference", reference, TextKind.Line) is { } referenceText)
        {
            errors.Add(referenceText);
        }
        if (errors.Count > 0)
        {
            return Refused(jobId, errors);
        }
        return await db.InTransactionAsync(async () =>
        {
            await LockAsync(jobId, ct);
            var balance = await LedgerQueries.EscrowAsync(db, jobId, ct);
            if (await db.Set<LedgerTransaction>().AnyAsync(t => t.IdempotencyKey == key, ct))
            {
                logger.LogWarning("Escrow funding {Key} for job {JobId} was recorded before; ignored", key, jobId);
                return new FundingResult(FundingOutcome.AlreadyRecorded, [], new Money(balance.NetMinor, amount.Currency));
            }
            var refused = EscrowRules.ValidateFunding(amount.Minor, amount.Currency, balance);
            if (refused.Count > 0)
            {
                return Refused(jobId, refused);
            }
            var (repaid, held) = EscrowRules.Receive(balance, amount.Minor);
            var lines = new List<LedgerLine> { new(AccountRef.External(amount.Currency), -amount.Minor) };
            if (repaid > 0)
            {
                lines.Add(new LedgerLine(AccountRef.Advance(jobId, amount.Currency), repaid));
            }
            if (held > 0)
            {
                lines.Add(new LedgerLine(AccountRef.Escrow(jobId, amount.Currency), held));
            }
            if (!await LedgerWriter.PostAsync(db, new LedgerPosting(Guid.CreateVersion7(), LedgerTransactionKind.EscrowFunded, description, key, lines),
                    time.GetUtcNow(), ct))
            {
                logger.LogWarning("Escrow funding {Key} for job {JobId} was recorded at the same time; ignored", key, jobId);
                return new FundingResult(FundingOutcome.AlreadyRecorded, [], new Money(balance.NetMinor, amount.Currency));
            }
            logger.LogInformation("Escrow of job {JobId} funded with {Amount} ({Description})", jobId, amount, description);
            return new FundingResult(FundingOutcome.Recorded, [], new Money(MoneyMath.Add(balance.NetMinor, amount.Minor, "amount"), amount.Currency));
        }, ct);
    }

    private FundingResult Refused(Guid jobId, IReadOnlyList<FieldError> errors)
    {
        logger.LogWarning("Escrow funding for job {JobId} refused: {Errors}", jobId, string.Join(" ", errors.Select(e => e.Field + ": " + e.Message)));
        return new FundingResult(FundingOutcome.Refused, errors);
    }
}

internal sealed record RefundableIntent(string Intent, long Amount);
