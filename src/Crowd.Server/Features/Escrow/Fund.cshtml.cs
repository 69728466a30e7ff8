using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Escrow;

/// <summary>
/// An admin matches requesters' bank transfers to jobs: the jobs waiting for money with their payment references, and a
/// transfer recorded by the reference its remark carries (the default funding, no outside service).
/// </summary>
[Authorize(Policy = Roles.Admin)]
public sealed class FundModel(BankTransfers transfers, IStringLocalizer<EscrowText> text) : PageModel
{
    [BindProperty] public string? PaymentReference { get; set; }
    [BindProperty] public string? Amount { get; set; }
    [BindProperty] public string Currency { get; set; } = "CNY";
    [BindProperty] public string? BankReference { get; set; }
    public string? Result { get; private set; }
    public IReadOnlyList<WaitingJob> Waiting { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct) => Waiting = await transfers.WaitingAsync(ct);

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var minor = Currencies.ParseMajor(Amount, Currency);
        if (minor is null)
        {
            ModelState.AddErrors([new FieldError(nameof(Amount), "Enter the amount received, like 1250.00.")], text);
        }
        else
        {
            var result = await transfers.RecordAsync(PaymentReference, new Money(minor.Value, Currency), BankReference, User.UserId(), ct);
            switch (result.Outcome)
            {
                case FundingOutcome.Refused:
                    ModelState.AddErrors(result.Errors.Select(e => e with
                    {
                        Field = e.Field switch
                        {
                            "paymentReference" => nameof(PaymentReference), "amount" => nameof(Amount), "currency" => nameof(Currency),
                            _ => nameof(BankReference),
                        },
                    }), text);
                    break;
                case FundingOutcome.AlreadyRecorded:
                    Result = text["This transfer was recorded before; nothing changed. Escrow: {0}.", result.Escrow!.Value.ToString()];
                    break;
                default:
                    Result = result.Covered
                        ? text["Recorded for \"{0}\". Its escrow now holds {1}, which covers the budget; the requester has been told.", result.JobTitle!, result.Escrow!.Value.ToString()]
                        : text["Recorded for \"{0}\". Its escrow now holds {1}.", result.JobTitle!, result.Escrow!.Value.ToString()];
                    ModelState.Clear();
                    (PaymentReference, Amount, BankReference) = (null, null, null);
                    break;
            }
        }
        Waiting = await transfers.WaitingAsync(ct);
        return Page();
    }
}
