using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Payouts.BankFile;

public enum BatchActionOutcome
{
    Done,
    NotFound,
    /// <summary>Already in that state, or not in a state that allows it: nothing changed.</summary>
    NothingToDo,
}

public sealed record BatchSummary(Guid Id, Guid RunId, string RunKey, string Currency, BankBatchState State, DateTimeOffset CreatedAt, DateTimeOffset? SentAt,
    int Lines, long TotalMinor, int Settled, int Failed)
{
    public BatchStage Stage => BankBatchFlow.Stage(State, Lines - Settled - Failed);
}

/// <summary>A line as the admin's page shows it: the account number masked.</summary>
public sealed record BatchLineView(Payout Payout, string Payee, PayoutAccountKind? Kind, string? AccountLast4);

/// <summary>The admin's side of bank-file payouts: download, mark sent, confirm or fail each line, as <see cref="BankBatchFlow"/> allows.</summary>
public sealed class BankBatches(CrowdDb db, TimeProvider time, PayoutFaults faults, PayoutAccountNumbers numbers, PayoutNotices notices,
    ILogger<BankBatches> logger)
{
    public async Task<IReadOnlyList<BatchSummary>> ListAsync(CancellationToken ct = default) =>
        await Summaries(db.Set<BankPayoutBatch>()).Take(100).ToListAsync(ct);

    public Task<BatchSummary?> FindAsync(Guid batchId, CancellationToken ct = default) =>
        Summaries(db.Set<BankPayoutBatch>().Where(b => b.Id == batchId)).FirstOrDefaultAsync(ct);

    /// <summary>Newest first.</summary>
    private IQueryable<BatchSummary> Summaries(IQueryable<BankPayoutBatch> batches) =>
        batches.AsNoTracking()
            .Join(db.Set<PayoutRun>(), b => b.RunId, r => r.Id, (b, r) => new { b, r.RunKey })
            .OrderByDescending(x => x.b.CreatedAt)
            .Select(x => new BatchSummary(x.b.Id, x.b.RunId, x.RunKey, x.b.Currency, x.b.State, x.b.CreatedAt, x.b.SentAt,
                db.Set<Payout>().Count(p => p.BatchId == x.b.Id),
                db.Set<Payout>().Where(p => p.BatchId == x.b.Id).Sum(p => p.AmountMinor),
                db.Set<Payout>().Count(p => p.BatchId == x.b.Id && p.State == PayoutState.Settled),
                db.Set<Payout>().Count(p => p.BatchId == x.b.Id && p.State == PayoutState.Failed)));

    public async Task<IReadOnlyList<BatchLineView>> LinesAsync(Guid batchId, CancellationToken ct = default) =>
        (await LineRowsAsync(batchId, ct)).Select(r => new BatchLineView(r.Payout, r.Payee, r.Kind, r.Last4)).ToList();

    /// <summary>The file for the bank: the one place account numbers are read in full.</summary>
    public async Task<string?> CsvAsync(Guid batchId, CancellationToken ct = default)
    {
        if (!await db.Set<BankPayoutBatch>().AnyAsync(b => b.Id == batchId, ct))
        {
            return null;
        }
        var lines = (await LineRowsAsync(batchId, ct))
            .Select(r => new BankBatchLine(r.Payee, numbers.Reveal(r.Protected, r.Legacy) ?? "", r.Payout.AmountMinor, r.Payout.Currency, r.Payout.Id));
        logger.LogInformation("Bank payout batch {BatchId} downloaded with its account numbers", batchId);
        return BankBatchFile.Csv(lines);
    }

    private sealed record LineRow(Payout Payout, string Payee, PayoutAccountKind? Kind, string? Last4, string? Protected, string? Legacy);

    private async Task<List<LineRow>> LineRowsAsync(Guid batchId, CancellationToken ct) =>
        await db.Set<Payout>().AsNoTracking().Where(p => p.BatchId == batchId)
            .OrderBy(p => p.Id)
            .GroupJoin(db.Set<PayoutAccount>(), p => p.ContributorId, a => a.ContributorId, (p, a) => new { p, a })
            .SelectMany(x => x.a.DefaultIfEmpty(), (x, a) => new LineRow(x.p, a != null ? a.PayeeName : "", a != null ? a.AccountKind : null,
                a != null ? a.AccountNumberLast4 : null, a != null ? a.AccountNumberProtected : null, a != null ? a.LegacyAccountNumber : null))
            .ToListAsync(ct);

    public async Task<BatchActionOutcome> MarkSentAsync(Guid batchId, Guid adminUserId, CancellationToken ct = default)
    {
        // Written is the one stage that allows it (BankBatchFlow); the update's condition is that stage.
        var changed = await db.InTransactionAsync(async () =>
        {
            var moved = await db.Set<BankPayoutBatch>().Where(b => b.Id == batchId && b.State == BankBatchState.Written)
                .ExecuteUpdateAsync(s => s.SetProperty(b => b.State, BankBatchState.Sent).SetProperty(b => b.SentAt, time.GetUtcNow())
                    .SetProperty(b => b.SentByUserId, adminUserId), ct);
            if (moved > 0)
            {
                await notices.BatchSentAsync(batchId, ct);
            }
            return moved;
        }, ct);
        if (changed == 0)
        {
            return await db.Set<BankPayoutBatch>().AnyAsync(b => b.Id == batchId, ct) ? BatchActionOutcome.NothingToDo : BatchActionOutcome.NotFound;
        }
        logger.LogInformation("Bank payout batch {BatchId} marked sent by {AdminId}", batchId, adminUserId);
        return BatchActionOutcome.Done;
    }

    /// <summary>The bank paid this line: in flight → paid out. Only for a batch marked sent.</summary>
    public Task<BatchActionOutcome> ConfirmLineAsync(Guid payoutId, CancellationToken ct = default) =>
        LineAsync(payoutId, "confirm", async (now, c) =>
        {
            var moved = await PayoutTransitions.SettleAsync(db, payoutId, null, now, c);
            await notices.PaidAsync(payoutId, c);
            return moved;
        }, ct);

    /// <summary>The bank could not pay this line: the money returns to the contributor's payable for the next run.</summary>
    public Task<BatchActionOutcome> FailLineAsync(Guid payoutId, string reason, CancellationToken ct = default) =>
        LineAsync(payoutId, "fail", (now, c) => PayoutTransitions.FailAsync(db, payoutId, string.IsNullOrWhiteSpace(reason) ? "Bank returned the transfer." : reason.Trim()[..Math.Min(Payout.MaxFailureReasonLength, reason.Trim().Length)], now, c), ct);

    /// <summary>Confirms every line of a sent batch that is not failed.</summary>
    public async Task<int> ConfirmRemainingAsync(Guid batchId, CancellationToken ct = default)
    {
        if (await FindAsync(batchId, ct) is not { } batch || !BankBatchFlow.Allows(batch.Stage, BatchAction.ConfirmRemaining))
        {
            return 0;
        }
        return await db.InTransactionAsync(async () =>
        {
            var settled = await PayoutTransitions.SettleBatchAsync(db, batchId, time.GetUtcNow(), ct);
            await notices.BatchPaidAsync(batchId, ct);
            await faults.AtAsync(PayoutStep.BeforeSettleCommit, null, ct);
            logger.LogInformation("Bank payout batch {BatchId}: {Count} lines confirmed paid", batchId, settled);
            return settled;
        }, ct);
    }

    private async Task<BatchActionOutcome> LineAsync(Guid payoutId, string action, Func<DateTimeOffset, CancellationToken, Task<int>> move, CancellationToken ct)
    {
        var line = await db.Set<Payout>().Where(p => p.Id == payoutId)
            .Join(db.Set<BankPayoutBatch>(), p => p.BatchId, b => b.Id, (p, b) => new { p.State, p.BatchId, Batch = b.State })
            .FirstOrDefaultAsync(ct);
        if (line is null)
        {
            return BatchActionOutcome.NotFound;
        }
        var open = await db.Set<Payout>().CountAsync(p => p.BatchId == line.BatchId && p.State == PayoutState.Sent, ct);
        if (!BankBatchFlow.LineCanBeSettled(BankBatchFlow.Stage(line.Batch, open), line.State))
        {
            logger.LogWarning("Bank payout line {PayoutId}: {Action} refused, its batch is not sent or the line is already settled or failed", payoutId, action);
            return BatchActionOutcome.NothingToDo;
        }
        return await db.InTransactionAsync(async () =>
        {
            var moved = await move(time.GetUtcNow(), ct);
            await faults.AtAsync(PayoutStep.BeforeSettleCommit, payoutId, ct);
            if (moved == 0)
            {
                logger.LogWarning("Bank payout line {PayoutId}: {Action} ignored, the line is already settled or failed", payoutId, action);
                return BatchActionOutcome.NothingToDo;
            }
            return BatchActionOutcome.Done;
        }, ct);
    }
}
