using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crowd.Server.Features.Escrow;

/// <summary>A job whose escrow does not yet hold its budget, as the admin matching bank transfers sees it.</summary>
public sealed record WaitingJob(Guid JobId, string Title, string Organisation, string PaymentReference, Money Missing, Money Budget, Money Escrow, bool Published);

public sealed record BankTransferResult(FundingOutcome Outcome, IReadOnlyList<FieldError> Errors, string? JobTitle = null, Money? Escrow = null, bool Covered = false);

/// <summary>
/// Requesters' bank transfers into escrow: each job's payment reference, the jobs waiting for money, and an admin
/// recording a transfer by the reference its remark carries.
/// </summary>
public sealed class BankTransfers(CrowdDb db, EscrowService escrow, FundedJobs funded, ILogger<BankTransfers> logger)
{
    /// <summary>The job's payment reference, given the first time it is asked for.</summary>
    public async Task<string> ReferenceForAsync(Guid jobId, CancellationToken ct = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            var reference = PaymentReference.New();
            try
            {
                var given = await db.Database.SqlQuery<string>($"""
                    INSERT INTO job_funding_settings (job_id, payment_reference, auto_publish) VALUES ({jobId}, {reference}, false)
                    ON CONFLICT (job_id) DO UPDATE SET payment_reference = coalesce(job_funding_settings.payment_reference, excluded.payment_reference)
                    RETURNING payment_reference AS "Value"
                    """).ToListAsync(ct);
                return given.Single();
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && attempt < 3)
            {
                // Another job drew the same 35 random bits: draw again.
            }
        }
    }

    /// <summary>Jobs not closed whose escrow does not cover their unspent budget, oldest first.</summary>
    public async Task<IReadOnlyList<WaitingJob>> WaitingAsync(CancellationToken ct = default)
    {
        var candidates = await db.Jobs.AsNoTracking().Where(j => j.Status != JobStatus.Closed)
            .Join(db.Set<JobBudget>(), j => j.Id, b => b.JobId, (j, b) => j)
            .Join(db.Organisations, j => j.OrganisationId, o => o.Id, (j, o) => new { j.Id, j.Terms.Title, j.Status, j.CreatedAt, Organisation = o.Name })
            .OrderBy(j => j.CreatedAt).Take(500)
            .ToListAsync(ct);
        var waiting = new List<WaitingJob>();
        foreach (var job in candidates)
        {
            if (await JobFunding.StatusAsync(db, job.Id, ct) is { Covered: false } status)
            {
                waiting.Add(new WaitingJob(job.Id, job.Title, job.Organisation, await ReferenceForAsync(job.Id, ct), Missing(status), status.Budget, status.Escrow,
                    job.Status == JobStatus.Published));
            }
        }
        return waiting;
    }

    /// <summary>What the escrow still needs to hold the unspent budget.</summary>
    public static Money Missing(FundingStatus status) =>
        new(Math.Max(0, status.Remaining.Minor - Math.Max(0, status.Escrow.Minor)), status.Remaining.Currency);

    /// <summary>
    /// An admin saw a transfer arrive whose remark carries a job's payment reference. The bank's own reference for the
    /// transfer makes recording it twice harmless.
    /// </summary>
    public async Task<BankTransferResult> RecordAsync(string? paymentReference, Money amount, string? bankReference, Guid adminUserId, CancellationToken ct = default)
    {
        var (check, reference) = PaymentReference.Parse(paymentReference);
        var error = check switch
        {
            PaymentReferenceCheck.Malformed => new FieldError("paymentReference",
                "This is not a payment reference. It looks like CW-7K3M-9Q2R: eight letters and digits after CW."),
            PaymentReferenceCheck.Mistyped => new FieldError("paymentReference",
                "This payment reference has a mistyped character: its check character does not match. Compare it with the transfer's remark."),
            _ => null,
        };
        var job = reference is null ? null : await db.Set<JobFundingSettings>().AsNoTracking().Where(s => s.PaymentReference == reference)
            .Join(db.Jobs, s => s.JobId, j => j.Id, (s, j) => new { j.Id, j.Terms.Title })
            .FirstOrDefaultAsync(ct);
        if (error is null && job is null)
        {
            error = new FieldError("paymentReference", "No job has the payment reference {0}. Check the transfer's remark.", reference!);
        }
        if (error is not null)
        {
            logger.LogWarning("Bank transfer refused: payment reference {Reference} ({Check})", paymentReference, check);
            return new BankTransferResult(FundingOutcome.Refused, [error]);
        }

        return await db.InTransactionAsync(async () =>
        {
            var result = await escrow.RecordBankTransferAsync(job!.Id, amount, bankReference ?? "", adminUserId, ct);
            if (result.Outcome == FundingOutcome.Recorded)
            {
                await funded.AfterFundingAsync(job.Id, ct);
            }
            var covered = result.Outcome != FundingOutcome.Refused && await JobFunding.CoversBudgetAsync(db, job.Id, ct);
            return new BankTransferResult(result.Outcome, result.Errors, job.Title, result.Escrow, covered);
        }, ct);
    }
}
