using Crowd.Server.Infrastructure.Money;

namespace Crowd.Server.Features.Ledger;

/// <summary>What a posting must satisfy before it is sent; the database checks the balance again at commit.</summary>
public static class LedgerRules
{
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
