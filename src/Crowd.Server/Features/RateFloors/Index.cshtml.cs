using System.Globalization;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.RateFloors;

public sealed class RateFloorForm
{
    public string? Region { get; set; }
    public string? Currency { get; set; } = "CNY";
    public string? RegionName { get; set; }
    public string? LegalMinimum { get; set; }
    public string? MarketReference { get; set; }
    public string? Source { get; set; }
}

[Authorize(Policy = Roles.Admin)]
public sealed class IndexModel(CrowdDb db, RateFloorService floors, IStringLocalizer<RateFloorsText> text) : PageModel
{
    [BindProperty]
    public RateFloorForm Form { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? Region { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Currency { get; set; }

    [BindProperty(SupportsGet = true)]
    public bool Saved { get; set; }

    public IReadOnlyList<RateFloor> Floors { get; private set; } = [];

    public string Localized(string regionName) => text[regionName];

    public async Task OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        if (Floors.FirstOrDefault(f => f.Region == Region && f.Currency == Currency) is { } floor)
        {
            Form = new RateFloorForm
            {
                Region = floor.Region, Currency = floor.Currency, RegionName = floor.RegionName, Source = floor.Source,
                LegalMinimum = Currencies.ToMajor(new Money(floor.LegalMinimumMinor, floor.Currency)).ToString(CultureInfo.InvariantCulture),
                MarketReference = Currencies.ToMajor(new Money(floor.MarketReferenceMinor, floor.Currency)).ToString(CultureInfo.InvariantCulture),
            };
        }
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        ModelState.Clear();
        var region = Form.Region?.Trim().ToUpperInvariant() ?? "";
        var currency = Form.Currency?.Trim().ToUpperInvariant() ?? "";
        var errors = new List<FieldError>();
        var legal = Amount(errors, "legalMinimum", Form.LegalMinimum, currency);
        var market = Amount(errors, "marketReference", Form.MarketReference, currency);
        if (errors.Count == 0)
        {
            var (floor, _, ruleErrors) = await floors.UpsertAsync(region, currency,
                new RateFloorRequest(Form.RegionName, legal, market, Form.Source), User.UserId(), ct);
            if (floor is not null)
            {
                return RedirectToPage(new { region = floor.Region, currency = floor.Currency, saved = true });
            }
            errors.AddRange(ruleErrors);
        }
        ModelState.AddErrors(errors.Select(e => e with { Field = "Form." + char.ToUpperInvariant(e.Field[0]) + e.Field[1..] }), text);
        await LoadAsync(ct);
        return Page();
    }

    private static Money? Amount(List<FieldError> errors, string field, string? major, string currency)
    {
        if (!Currencies.IsSupported(currency))
        {
            return null; // the rules name the currency itself
        }
        if (Currencies.ParseMajor(major?.Trim(), currency) is { } minor)
        {
            return new Money(minor, currency);
        }
        errors.Add(new(field, "Enter an amount like 27.70."));
        return null;
    }

    private async Task LoadAsync(CancellationToken ct) =>
        Floors = await db.RateFloors.AsNoTracking().OrderBy(f => f.Region).ThenBy(f => f.Currency).ToListAsync(ct);
}
