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
    int Lines, long TotalMinor, int Settled, int Failed);

/// <summary>The admin's side of bank-file payouts: download, mark sent, confirm or fail each line.</summary>
public sealed class BankBatches(CrowdDb db, TimeProvider time, PayoutFaults faults, ILogger<BankBatches> logger)
{
    public async Task<IReadOnlyList<BatchSummary>> ListAsync(CancellationToken ct = default) =>
        await db.Set<BankPayoutBatch>().AsNoTracking()
            .Join(db.Set<PayoutRun>(), b => b.RunId, r => r.Id, (b, r) => new { b, r.RunKey })
            .OrderByDescending(x => x.b.CreatedAt)
            .Take(100)
            .Select(x => new BatchSummary(x.b.Id, x.b.RunId, x.RunKey, x.b.Currency, x.b.State, x.b.CreatedAt, x.b.SentAt,
                db.Set<Payout>().Count(p => p.BatchId == x.b.Id),
                db.Set<Payout>().Where(p => p.BatchId == x.b.Id).Sum(p => p.AmountMinor),
                db.Set<Payout>().Count(p => p.BatchId == x.b.Id && p.State == PayoutState.Settled),
                db.Set<Payout>().Count(p => p.BatchId == x.b.Id && p.State == PayoutState.Failed)))
            .ToListAsync(ct);

    public async Task<IReadOnlyList<(Payout Payout, BankBatchLine Line)>> LinesAsync(Guid batchId, CancellationToken ct = default)
    {
        var rows = await db.Set<Payout>().AsNoTracking().Where(p => p.BatchId == batchId)
            .GroupJoin(db.Set<PayoutAccount>(), p => p.ContributorId, a => a.ContributorId, (p, a) => new { p, a })
            .SelectMany(x => x.a.DefaultIfEmpty(), (x, a) => new { x.p, Payee = a != null ? a.PayeeName : "", Reference = a != null ? a.BankAccountReference : null })
            .OrderBy(x => x.p.Id)
            .ToListAsync(ct);
        return rows.Select(r => (r.p, new BankBatchLine(r.Payee, r.Reference ?? "", r.p.AmountMinor, r.p.Currency, r.p.Id))).ToList();
    }

    public async Task<string?> CsvAsync(Guid batchId, CancellationToken ct = default)
    {
        if (!await db.Set<BankPayoutBatch>().AnyAsync(b => b.Id == batchId, ct))
        {
            return null;
        }
        return BankBatchFile.Csv((await LinesAsync(batchId, ct)).Select(l => l.Line));
    }

    public async Task<BatchActionOutcome> MarkSentAsync(Guid batchId, Guid adminUserId, CancellationToken ct = default)
    {
        var changed = await db.Set<BankPayoutBatch>().Where(b => b.Id == batchId && b.State == BankBatchState.Written)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.State, BankBatchState.Sent).SetProperty(b => b.SentAt, time.GetUtcNow())
                .SetProperty(b => b.SentByUserId, adminUserId), ct);
        if (changed == 0)
        {
            return await db.Set<BankPayoutBatch>().AnyAsync(b => b.Id == batchId, ct) ? BatchActionOutcome.NothingToDo : BatchActionOutcome.NotFound;
        }
        logger.LogInformation("Bank payout batch {BatchId} marked sent by {AdminId}", batchId, adminUserId);
        return BatchActionOutcome.Done;
    }

    /// <summary>The bank paid this line: in flight → paid out. Only for a batch marked sent.</summary>
    public Task<BatchActionOutcome> ConfirmLineAsync(Guid payoutId, CancellationToken ct = default) =>
        LineAsync(payoutId, "confirm", (now, c) => PayoutTransitions.SettleAsync(db, payoutId, null, now, c), ct);

    /// <summary>The bank could not pay this line: the money returns to the contributor's payable for the next run.</summary>
    public Task<BatchActionOutcome> FailLineAsync(Guid payoutId, string reason, CancellationToken ct = default) =>
        LineAsync(payoutId, "fail", (now, c) => PayoutTransitions.FailAsync(db, payoutId, string.IsNullOrWhiteSpace(reason) ? "Bank returned the transfer." : reason.Trim()[..Math.Min(500, reason.Trim().Length)], now, c), ct);

    /// <summary>Confirms every line of a sent batch that is not failed.</summary>
    public async Task<int> ConfirmRemainingAsync(Guid batchId, CancellationToken ct = default)
    {
        if (!await db.Set<BankPayoutBatch>().AnyAsync(b => b.Id == batchId && b.State == BankBatchState.Sent, ct))
        {
            return 0;
        }
        return await db.InTransactionAsync(async () =>
        {
            var settled = await PayoutTransitions.SettleBatchAsync(db, batchId, time.GetUtcNow(), ct);
            await faults.AtAsync(PayoutStep.BeforeSettleCommit, null, ct);
            logger.LogInformation("Bank payout batch {BatchId}: {Count} lines confirmed paid", batchId, settled);
            return settled;
        }, ct);
    }

    private async Task<BatchActionOutcome> LineAsync(Guid payoutId, string action, Func<DateTimeOffset, CancellationToken, Task<int>> move, CancellationToken ct)
    {
        var inSentBatch = await db.Set<Payout>().Where(p => p.Id == payoutId)
            .Join(db.Set<BankPayoutBatch>(), p => p.BatchId, b => b.Id, (p, b) => b.State)
            .ToListAsync(ct);
        if (inSentBatch.Count == 0)
        {
            return BatchActionOutcome.NotFound;
        }
        if (inSentBatch[0] != BankBatchState.Sent)
        {
            logger.LogWarning("Bank payout line {PayoutId}: {Action} refused, its batch is not marked sent", payoutId, action);
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
