using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Features.Payouts.Stripe;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crowd.Server.Features.Escrow;

public enum EscrowRefundState
{
    Pending = 0,
    Sent = 1,
    Failed = 2,
}

/// <summary>Part of a closed job's unused escrow going back to the PaymentIntent it came from.</summary>
public sealed class EscrowRefund
{
    public Guid Id { get; set; }
    public Guid JobId { get; set; }
    public string PaymentIntentId { get; set; } = "";
    public string Currency { get; set; } = "";
    public long AmountMinor { get; set; }
    public EscrowRefundState State { get; set; }
    public string? StripeRefundId { get; set; }
    public string? FailureReason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }
}

/// <summary>
/// Sends the Stripe refunds that closing a job queued (see <see cref="EscrowService.RefundOnCloseAsync"/>). The ledger moved
/// the money when the refund was queued; Stripe is called with the refund's id as Idempotency-Key, so a crash between the
/// call and the update sends it once. A refund Stripe refuses for good puts the money back in the job's escrow.
/// </summary>
public sealed class StripeRefunds(CrowdDb db, StripeGateway stripe, TimeProvider time, ILogger<StripeRefunds> logger)
{
    /// <summary>Sends the pending refunds of one job, or of every job; returns how many Stripe accepted.</summary>
    public async Task<int> SendPendingAsync(Guid? jobId = null, CancellationToken ct = default)
    {
        var pending = await db.Set<EscrowRefund>().AsNoTracking()
            .Where(r => r.State == EscrowRefundState.Pending && (jobId == null || r.JobId == jobId))
            .OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).ToListAsync(ct);
        var sent = 0;
        foreach (var refund in pending)
        {
            try
            {
                var answer = await stripe.CreateRefundAsync(refund.PaymentIntentId, refund.AmountMinor, refund.JobId, refund.Id, ct);
                sent += await db.Set<EscrowRefund>().Where(r => r.Id == refund.Id && r.State == EscrowRefundState.Pending)
                    .ExecuteUpdateAsync(s => s.SetProperty(r => r.State, EscrowRefundState.Sent)
                        .SetProperty(r => r.StripeRefundId, answer.Id).SetProperty(r => r.SentAt, time.GetUtcNow()), ct);
                logger.LogInformation("Stripe refund {StripeRefundId} of {Amount} {Currency} for job {JobId} sent (PaymentIntent {Intent})",
                    answer.Id, refund.AmountMinor, refund.Currency, refund.JobId, refund.PaymentIntentId);
            }
            catch (Exception e) when (StripeGateway.IsRefusal(e))
            {
                await FailAsync(refund, e.Message, ct);
            }
            catch (Exception e) when (StripeGateway.IsTransient(e))
            {
                logger.LogWarning("Stripe refund {RefundId} for job {JobId} not sent yet ({Message}); the next payout run retries it with the same key",
                    refund.Id, refund.JobId, e.Message);
            }
        }
        return sent;
    }

    private async Task FailAsync(EscrowRefund refund, string reason, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await db.InTransactionAsync(async () =>
        {
            var moved = await db.Set<EscrowRefund>().Where(r => r.Id == refund.Id && r.State == EscrowRefundState.Pending)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.State, EscrowRefundState.Failed)
                    .SetProperty(r => r.FailureReason, reason.Length > 500 ? reason[..500] : reason), ct);
            if (moved == 0)
            {
                return 0;
            }
            await LedgerWriter.PostAsync(db, LedgerPosting.Transfer(LedgerTransactionKind.Correction, $"Stripe refused refund {refund.Id} of job {refund.JobId}",
                $"refund-failed:{refund.Id}", AccountRef.External(refund.Currency), AccountRef.Escrow(refund.JobId, refund.Currency), refund.AmountMinor), now, ct);
            var organisationId = await db.Jobs.Where(j => j.Id == refund.JobId).Select(j => j.OrganisationId).SingleAsync(ct);
            db.Add(new EscrowNotice
            {
                Id = Guid.CreateVersion7(), JobId = refund.JobId, OrganisationId = organisationId, CreatedAt = now,
                Message = JobFunding.RefundFailedMessage,
            });
            await db.SaveChangesAsync(ct);
            return moved;
        }, ct);
        logger.LogWarning("Stripe refused refund {RefundId} of {Amount} {Currency} for job {JobId} ({Reason}); the money is back in the job's escrow",
            refund.Id, refund.AmountMinor, refund.Currency, refund.JobId, reason);
    }
}

internal sealed class EscrowRefundConfiguration : IEntityTypeConfiguration<EscrowRefund>
{
    public void Configure(EntityTypeBuilder<EscrowRefund> e)
    {
        e.ToTable("escrow_refunds", t => t.HasCheckConstraint("ck_escrow_refunds_amount_positive", "amount_minor > 0"));
        e.Property(r => r.PaymentIntentId).HasMaxLength(100);
        e.Property(r => r.Currency).HasMaxLength(3).IsFixedLength();
        e.Property(r => r.StripeRefundId).HasMaxLength(100);
        e.Property(r => r.FailureReason).HasMaxLength(500);
        e.HasIndex(r => r.JobId);
        e.HasIndex(r => r.State).HasFilter($"state = {(int)EscrowRefundState.Pending}");
        e.HasOne<Job>().WithMany().HasForeignKey(r => r.JobId).OnDelete(DeleteBehavior.Restrict);
    }
}
