using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Escrow;

/// <summary>An admin records a bank transfer a requester made into a job's escrow (the default funding, no outside service).</summary>
[Authorize(Policy = Roles.Admin)]
public sealed class FundModel(EscrowService escrow, IStringLocalizer<EscrowText> text) : PageModel
{
    [BindProperty] public Guid JobId { get; set; }
    [BindProperty] public string? Amount { get; set; }
    [BindProperty] public string Currency { get; set; } = "CNY";
    [BindProperty] public string? Reference { get; set; }
    public string? Result { get; private set; }

    public void OnGet(Guid? jobId) => JobId = jobId ?? Guid.Empty;

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var minor = Currencies.ParseMajor(Amount, Currency);
        if (minor is null)
        {
            ModelState.AddErrors([new FieldError(nameof(Amount), "Enter the amount received, like 1250.00.")], text);
            return Page();
        }
        var result = await escrow.RecordBankTransferAsync(JobId, new Money(minor.Value, Currency), Reference ?? "", User.UserId(), ct);
        switch (result.Outcome)
        {
            case FundingOutcome.Refused:
                ModelState.AddErrors(result.Errors.Select(e => e with
                {
                    Field = e.Field switch { "jobId" => nameof(JobId), "amount" => nameof(Amount), "currency" => nameof(Currency), _ => nameof(Reference) },
                }), text);
                break;
            case FundingOutcome.AlreadyRecorded:
                Result = text["This transfer was recorded before; nothing changed. Escrow: {0}.", result.Escrow!.Value.ToString()];
                break;
            default:
                Result = text["Recorded. The job's escrow now holds {0}.", result.Escrow!.Value.ToString()];
                break;
        }
        return Page();
    }
}
