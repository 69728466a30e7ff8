using Crowd.Server.Infrastructure.Money;

namespace Crowd.Server.Features.Ledger;

/// <summary>What a posting must satisfy before it is sent; the database checks the balance and the bounds again at commit.</summary>
public static class LedgerRules
{
    /// <summary>The largest amount one entry may carry, either way (the database's ck_ledger_entries_amount_bound).</summary>
    public const long MaxEntryMinor = Money.MaxMinor;

    /// <summary>
    /// The most money the platform may have taken in, net of refunds, per currency: the bound on the External account.
    /// Every other account holds money that came through it, so no balance and no sum of balances can pass it, and 10^18
    /// is far enough below a bigint's 9.2 × 10^18 that adding an entry to any balance cannot overflow.
    /// </summary>
    public const long MaxTotalMinor = 1_000_000_000_000_000_000;

    public static IReadOnlyList<string> Problems(LedgerPosting posting)
    {
        var problems = new List<string>();
        if (posting.Lines.Count < 2)
        {
            problems.Add("A transaction needs at least two entries.");
        }
        if (string.IsNullOrWhiteSpace(posting.IdempotencyKey) || posting.IdempotencyKey.Length > 200)
        {
            problems.Add("A transaction needs an idempotency key of at most 200 characters.");
        }
        foreach (var line in posting.Lines)
        {
            if (line.AmountMinor == 0)
            {
                problems.Add("An entry cannot be zero.");
            }
            else if (line.AmountMinor is < -MaxEntryMinor or > MaxEntryMinor)
            {
                problems.Add($"An entry of {line.AmountMinor} is beyond ±{MaxEntryMinor}.");
            }
            if (!Currencies.IsSupported(line.Account.Currency))
            {
                problems.Add($"Currency {line.Account.Currency} is not supported.");
            }
        }
        foreach (var currency in posting.Lines.GroupBy(l => l.Account.Currency))
        {
            var sum = currency.Aggregate(Int128.Zero, (total, l) => total + l.AmountMinor);
            if (sum != 0)
            {
                problems.Add($"Entries in {currency.Key} sum to {sum}, not zero.");
            }
        }
        return problems;
    }
}
