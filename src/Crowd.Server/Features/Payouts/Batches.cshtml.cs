using System.Globalization;
using System.Text;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Payouts.BankFile;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Payouts;

/// <summary>Admin: bank payout batches — download the file, mark it sent, confirm or fail each line; run payouts now.</summary>
[Authorize(Policy = Roles.Admin)]
public sealed class BatchesModel(BankBatches batches, PayoutRunner runner, TimeProvider time, IStringLocalizer<PayoutsText> text) : PageModel
{
    public IReadOnlyList<BatchSummary> Batches { get; private set; } = [];
    public BatchSummary? Selected { get; private set; }
    public IReadOnlyList<BatchLineView> Lines { get; private set; } = [];
    public string? Message { get; private set; }

    public static string StageLabel(BatchStage stage) => stage switch
    {
        BatchStage.Written => "Written",
        BatchStage.Sent => "Sent",
        _ => "Done",
    };

    public async Task OnGetAsync(Guid? batch, CancellationToken ct) => await LoadAsync(batch, ct);

    public async Task<IActionResult> OnGetCsvAsync(Guid batch, CancellationToken ct)
    {
        var csv = await batches.CsvAsync(batch, ct);
        return csv is null ? NotFound() : File(Encoding.UTF8.GetBytes(csv), "text/csv", $"payouts-{batch:N}.csv");
    }

    public async Task<IActionResult> OnPostRunAsync(CancellationToken ct)
    {
        var result = await runner.RunAsync("manual-" + time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture), ct);
        Message = result.Outcome == PayoutRunOutcome.Busy
            ? text["A payout run is already in progress; try again when it has finished."]
            : text["Payout run done: {0} payouts created; {1} written to bank batches, to download and send below; {2} sent through Stripe; {3} failed; {4} contributors without a payout method.",
                result.Created, result.Batched, result.Sent, result.Failed, result.SkippedWithoutMethod];
        await LoadAsync(null, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostSentAsync(Guid batch, CancellationToken ct)
    {
        Message = await batches.MarkSentAsync(batch, User.UserId(), ct) switch
        {
            BatchActionOutcome.Done => text["Batch marked sent. Confirm each line once the bank reports it paid."],
            BatchActionOutcome.NotFound => text["There is no such batch."],
            _ => text["Nothing changed: the batch was already marked sent."],
        };
        await LoadAsync(batch, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostConfirmAllAsync(Guid batch, CancellationToken ct)
    {
        Message = await batches.FindAsync(batch, ct) switch
        {
            null => text["There is no such batch."],
            { Stage: var stage } when !BankBatchFlow.Allows(stage, BatchAction.ConfirmRemaining) =>
                text["Nothing changed: mark the batch sent first, and a line can be confirmed or failed only once."],
            _ => text["{0} lines confirmed paid.", await batches.ConfirmRemainingAsync(batch, ct)],
        };
        await LoadAsync(batch, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostConfirmAsync(Guid batch, Guid payout, CancellationToken ct)
    {
        Message = Describe(await batches.ConfirmLineAsync(payout, ct), "Line confirmed paid.");
        await LoadAsync(batch, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostFailAsync(Guid batch, Guid payout, string? reason, CancellationToken ct)
    {
        Message = Describe(await batches.FailLineAsync(payout, reason ?? "", ct), "Line failed; the money is back in the contributor's balance for the next run.");
        await LoadAsync(batch, ct);
        return Page();
    }

    private string Describe(BatchActionOutcome outcome, string done) => outcome switch
    {
        BatchActionOutcome.Done => text[done],
        BatchActionOutcome.NotFound => text["There is no such line."],
        _ => text["Nothing changed: mark the batch sent first, and a line can be confirmed or failed only once."],
    };

    private async Task LoadAsync(Guid? batch, CancellationToken ct)
    {
        Batches = await batches.ListAsync(ct);
        Selected = batch is { } id ? await batches.FindAsync(id, ct) : null;
        Lines = Selected is { } selected ? await batches.LinesAsync(selected.Id, ct) : [];
    }
}
