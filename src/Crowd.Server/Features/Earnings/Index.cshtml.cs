using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Features.Payouts.Stripe;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Scheduling;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Earnings;

[Authorize(Policy = Roles.Contributor)]
public sealed class IndexModel(CrowdDb db, IOptions<CrowdOptions> options, TimeProvider time, StripeGateway stripe, PayoutAccountNumbers numbers,
    IStringLocalizer<EarningsText> text, IStringLocalizer<PayoutsText> payoutText, ILogger<IndexModel> logger) : PageModel
{
    public ContributorEarnings Earnings { get; private set; } = new([], [], []);
    public PayoutAccount? Method { get; private set; }
    public PayoutTiming? NextPayout { get; private set; }
    public bool StripeEnabled => options.Value.Payouts.Mode == PayoutMode.Stripe;
    /// <summary>The smallest payout in each currency the contributor earns in: less waits for a later payout.</summary>
    public IEnumerable<Infrastructure.Money.Money> PayoutMinimums => Earnings.Totals.Select(t => new Infrastructure.Money.Money(options.Value.Payouts.MinimumMinor, t.Currency));
    public string? Saved { get; private set; }

    [BindProperty]
    public BankInput Bank { get; set; } = new();

    public sealed class BankInput
    {
        public string? PayeeName { get; set; }
        public PayoutAccountKind? Kind { get; set; } = PayoutAccountKind.BankCard;
        public string? AccountReference { get; set; }
    }

    public async Task OnGetAsync(string? stripe, CancellationToken ct)
    {
        if (stripe == "return")
        {
            await RefreshStripeStatusAsync(ct);
        }
        await LoadAsync(ct);
    }

    public async Task<IActionResult> OnPostBankAsync(CancellationToken ct)
    {
        var (number, errors) = PayoutMethodRules.Validate(Bank.PayeeName, Bank.Kind, Bank.AccountReference);
        if (errors.Count > 0)
        {
            ModelState.AddErrors(errors.Select(e => e with
            {
                Field = e.Field switch { "payeeName" => nameof(Bank.PayeeName), "accountNumber" => nameof(Bank.AccountReference), _ => e.Field },
            }), payoutText, nameof(Bank));
            await LoadAsync(ct);
            return Page();
        }
        var id = User.UserId();
        var method = await db.Set<PayoutAccount>().FirstOrDefaultAsync(a => a.ContributorId == id, ct);
        if (method is null)
        {
            method = new PayoutAccount { ContributorId = id };
            db.Add(method);
        }
        method.Provider = PayoutProvider.BankFile;
        method.PayeeName = Bank.PayeeName!.Trim();
        numbers.Store(method, Bank.Kind!.Value, number!);
        method.Onboarded = true;
        method.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        Saved = text["Your payout method is saved. The next payout goes to this account."];
        // The number is not shown again, not even in the form it was typed into.
        ModelState.Clear();
        Bank = new BankInput();
        await LoadAsync(ct);
        return Page();
    }

    /// <summary>Creates (once) the contributor's Stripe Express account and sends them to Stripe's onboarding.</summary>
    public async Task<IActionResult> OnPostStripeAsync(CancellationToken ct)
    {
        if (!StripeEnabled)
        {
            return NotFound();
        }
        var id = User.UserId();
        var method = await db.Set<PayoutAccount>().FirstOrDefaultAsync(a => a.ContributorId == id, ct);
        try
        {
            if (method?.StripeAccountId is null)
            {
                var email = await db.Users.Where(u => u.Id == id).Select(u => u.Email).FirstAsync(ct);
                var account = await stripe.CreateExpressAccountAsync(email ?? "", options.Value.Stripe.DefaultCountry, id, ct);
                if (method is null)
                {
                    method = new PayoutAccount { ContributorId = id, PayeeName = User.Identity?.Name ?? "" };
                    db.Add(method);
                }
                method.Provider = PayoutProvider.Stripe;
                method.StripeAccountId = account.Id;
                method.Onboarded = StripeGateway.CanReceivePayouts(account);
                method.UpdatedAt = time.GetUtcNow();
                await db.SaveChangesAsync(ct);
            }
            var here = new Uri(options.Value.PublicUrl!, "/Earnings");
            var link = await stripe.CreateOnboardingLinkAsync(method.StripeAccountId!, new Uri(here + "?stripe=refresh"), new Uri(here + "?stripe=return"),
                $"account-link-{id:N}-{time.GetUtcNow().ToUnixTimeSeconds() / 60}", ct);
            return Redirect(link.Url);
        }
        catch (Exception e) when (StripeGateway.IsFailure(e))
        {
            logger.LogWarning("Stripe onboarding for contributor {ContributorId} failed: {Message}", id, e.Message);
            ModelState.AddModelError("", text["Stripe could not be reached. Try again in a few minutes."]);
            await LoadAsync(ct);
            return Page();
        }
    }

    private async Task RefreshStripeStatusAsync(CancellationToken ct)
    {
        var id = User.UserId();
        var method = await db.Set<PayoutAccount>().FirstOrDefaultAsync(a => a.ContributorId == id && a.StripeAccountId != null, ct);
        if (method is null || !StripeEnabled)
        {
            return;
        }
        try
        {
            method.Onboarded = StripeGateway.CanReceivePayouts(await stripe.GetAccountAsync(method.StripeAccountId!, ct));
            method.Provider = PayoutProvider.Stripe;
            method.UpdatedAt = time.GetUtcNow();
            await db.SaveChangesAsync(ct);
        }
        catch (Exception e) when (StripeGateway.IsFailure(e))
        {
            logger.LogWarning("Stripe account status for contributor {ContributorId} not read: {Message}", id, e.Message);
        }
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var id = User.UserId();
        Earnings = await EarningsReport.ForContributorAsync(db, id, ct);
        Method = await db.Set<PayoutAccount>().AsNoTracking().FirstOrDefaultAsync(a => a.ContributorId == id, ct);
        NextPayout = PayoutTiming.Of(options.Value.Payouts.Cron, time.GetUtcNow());
    }
}
