namespace Crowd.Server.Features.Suppliers;

/// <summary>One working session of an attributed contributor: the atom every supplier figure is built from.</summary>
public sealed record SessionFact(Guid ContributorId, Guid JobId, long ActiveMs, long PayMinor, int ClipsAccepted, int ClipsReviewed);

public sealed record CellFigures(int Contributors, long ActiveMs, long PayMinor, int ClipsAccepted, int ClipsReviewed)
{
    public static readonly CellFigures Empty = new(0, 0, 0, 0, 0);

    public static CellFigures Of(IReadOnlyCollection<SessionFact> facts) => new(
        facts.Select(f => f.ContributorId).Distinct().Count(), facts.Sum(f => f.ActiveMs), facts.Sum(f => f.PayMinor),
        facts.Sum(f => f.ClipsAccepted), facts.Sum(f => f.ClipsReviewed));

    public CellFigures Plus(CellFigures other) => new(Contributors + other.Contributors, checked(ActiveMs + other.ActiveMs),
        Infrastructure.Money.MoneyMath.Add(PayMinor, other.PayMinor, "pay"),
        ClipsAccepted + other.ClipsAccepted, ClipsReviewed + other.ClipsReviewed);
}

public sealed record Cell(CellFigures Figures, bool Published);

/// <summary>The cells of one supplier's closed month in one currency: all jobs together, and each job.</summary>
public sealed record MonthCells(Cell AllJobs, IReadOnlyDictionary<Guid, Cell> Jobs);

/// <summary>
/// k-anonymity for supplier figures, with complementary suppression so that no two published cells can be subtracted to
/// reveal fewer than <see cref="MinPeople"/> people. Within a month (and currency) the sessions are partitioned by job, so
/// every figure a supplier can derive from the published cells by adding and subtracting is a sum over a union of
/// jobs; the rule makes every such union either empty or built from at least five distinct people:
/// 1. a cell (all jobs, or one job) with fewer than five distinct contributors is suppressed;
/// 2. the suppressed jobs together form the residual (all jobs minus the published jobs); while the residual holds
///    one to four people, the published job with the fewest people is suppressed too, until the residual holds none or
///    at least five. With every job suppressed the residual is the whole month, which rule 1 already covers.
/// </summary>
public static class CellSuppression
{
    public const int MinPeople = 5;

    public static bool Publishable(int people) => people >= MinPeople;

    public static MonthCells Partition(IReadOnlyCollection<SessionFact> facts)
    {
        var allJobs = CellFigures.Of(facts);
        var byJob = facts.GroupBy(f => f.JobId).ToDictionary(g => g.Key, g => g.ToList());
        var figures = byJob.ToDictionary(j => j.Key, j => CellFigures.Of(j.Value));
        if (!Publishable(allJobs.Contributors))
        {
            return new MonthCells(new Cell(allJobs, false), figures.ToDictionary(j => j.Key, j => new Cell(j.Value, false)));
        }

        var published = figures.Where(j => Publishable(j.Value.Contributors)).Select(j => j.Key).ToHashSet();
        while (true)
        {
            var residualPeople = byJob.Where(j => !published.Contains(j.Key)).SelectMany(j => j.Value).Select(f => f.ContributorId).Distinct().Count();
            if (residualPeople is 0 or >= MinPeople)
            {
                break;
            }
            var smallest = published.OrderBy(j => figures[j].Contributors).ThenBy(j => j).First();
            published.Remove(smallest);
        }
        return new MonthCells(new Cell(allJobs, true), figures.ToDictionary(j => j.Key, j => new Cell(j.Value, published.Contains(j.Key))));
    }
}
