namespace Crowd.Server.Features.Suppliers;

/// <summary>One working session of an attributed contributor: the atom every supplier figure is built from.</summary>
public sealed record SessionFact(Guid ContributorId, Guid JobId, long ActiveMs, long PayMinor, int ClipsAccepted, int ClipsReviewed,
    long SupplierFeeMinor = 0);

public sealed record CellFigures(int Contributors, long ActiveMs, long PayMinor, int ClipsAccepted, int ClipsReviewed, long SupplierFeeMinor = 0)
{
    public static readonly CellFigures Empty = new(0, 0, 0, 0, 0);

    public static CellFigures Of(IReadOnlyCollection<SessionFact> facts) => new(
        facts.Select(f => f.ContributorId).Distinct().Count(), facts.Sum(f => f.ActiveMs), facts.Sum(f => f.PayMinor),
        facts.Sum(f => f.ClipsAccepted), facts.Sum(f => f.ClipsReviewed), facts.Sum(f => f.SupplierFeeMinor));

    public CellFigures Plus(CellFigures other) => new(Contributors + other.Contributors, checked(ActiveMs + other.ActiveMs),
        Infrastructure.Money.MoneyMath.Add(PayMinor, other.PayMinor, "pay"),
        ClipsAccepted + other.ClipsAccepted, ClipsReviewed + other.ClipsReviewed,
        Infrastructure.Money.MoneyMath.Add(SupplierFeeMinor, other.SupplierFeeMinor, "supplierFee"));
}

public sealed record Cell(CellFigures Figures, bool Published);

/// <summary>The cells of one supplier's closed month in one currency: all jobs together, and each job.</summary>
public sealed record MonthCells(Cell AllJobs, IReadOnlyDictionary<Guid, Cell> Jobs);

/// <summary>Which cells of a partition may be shown: the whole (all cells together) and each cell by its key.</summary>
public sealed record PublishedCells<TKey>(bool Whole, IReadOnlySet<TKey> Cells) where TKey : notnull;

/// <summary>
/// k-anonymity for figures about people, with complementary suppression so that no two published cells can be subtracted
/// to reveal fewer than <see cref="MinPeople"/> people. The people are partitioned into cells (suppliers' sessions by job
/// within a month and currency; a job's speakers by language and accent), so every figure one can derive from the
/// published cells by adding and subtracting is a sum over a union of cells; the rule makes every such union either empty
/// or built from at least five distinct people:
/// 1. a cell (the whole, or one cell) with fewer than five distinct people is suppressed;
/// 2. the suppressed cells together form the residual (the whole minus the published cells); while the residual holds
///    one to four people, the published cell with the fewest people is suppressed too, until the residual holds none or
///    at least five. With every cell suppressed the residual is the whole, which rule 1 already covers.
/// </summary>
public static class CellSuppression
{
    public const int MinPeople = 5;

    public static bool Publishable(int people) => people >= MinPeople;

    /// <summary>The rule above over any partition: each person's membership of a cell (a person may belong to several).</summary>
    public static PublishedCells<TKey> Publish<TKey>(IReadOnlyCollection<(TKey Cell, Guid Person)> members) where TKey : notnull
    {
        var people = members.GroupBy(m => m.Cell).ToDictionary(g => g.Key, g => g.Select(m => m.Person).ToHashSet());
        if (!Publishable(members.Select(m => m.Person).Distinct().Count()))
        {
            return new(false, new HashSet<TKey>());
        }
        var published = people.Where(c => Publishable(c.Value.Count)).Select(c => c.Key).ToHashSet();
        while (true)
        {
            var residual = people.Where(c => !published.Contains(c.Key)).SelectMany(c => c.Value).Distinct().Count();
            if (residual is 0 or >= MinPeople)
            {
                return new(true, published);
            }
            var smallest = published.OrderBy(c => people[c].Count).ThenBy(c => c).First();
            published.Remove(smallest);
        }
    }

    public static MonthCells Partition(IReadOnlyCollection<SessionFact> facts)
    {
        var figures = facts.GroupBy(f => f.JobId).ToDictionary(g => g.Key, g => CellFigures.Of(g.ToList()));
        var published = Publish(facts.Select(f => (f.JobId, f.ContributorId)).ToList());
        return new MonthCells(new Cell(CellFigures.Of(facts), published.Whole),
            figures.ToDictionary(j => j.Key, j => new Cell(j.Value, published.Cells.Contains(j.Key))));
    }
}
