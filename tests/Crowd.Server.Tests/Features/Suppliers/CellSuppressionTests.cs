using Crowd.Server.Features.Suppliers;
using Xunit.Abstractions;

namespace Crowd.Server.Tests.Features.Suppliers;

public sealed class CellSuppressionTests(ITestOutputHelper output)
{
    private static readonly Guid s_jobA = Guid.Parse("00000000-0000-0000-0000-00000000000a");
    private static readonly Guid s_jobB = Guid.Parse("00000000-0000-0000-0000-00000000000b");
    private static readonly Guid s_jobC = Guid.Parse("00000000-0000-0000-0000-00000000000c");

    private static List<SessionFact> People(Guid job, int count, int offset = 0) =>
        Enumerable.Range(offset, count).Select(i => new SessionFact(Person(i), job, 60_000 * (i + 1), 500 * (i + 1), 1, 2)).ToList();

    private static Guid Person(int i) => new(i + 1, 0, 0, new byte[8]);

    [Fact]
    public void FourPeopleShowNothingAndFivePeopleShowTheirTotals()
    {
        var four = CellSuppression.Partition(People(s_jobA, 4));
        four.AllJobs.Published.ShouldBeFalse();
        four.Jobs[s_jobA].Published.ShouldBeFalse();

        var five = CellSuppression.Partition(People(s_jobA, 5));
        five.AllJobs.Published.ShouldBeTrue();
        five.AllJobs.Figures.ShouldBe(new CellFigures(5, 60_000 * 15, 500 * 15, 5, 10));
        five.Jobs[s_jobA].Published.ShouldBeTrue();
    }

    [Fact]
    public void TotalMinusAJobCannotRevealTheOnePersonOnAnotherJob()
    {
        var facts = People(s_jobA, 5).Concat(People(s_jobB, 1, offset: 5)).ToList();

        var cells = CellSuppression.Partition(facts);

        cells.AllJobs.Published.ShouldBeTrue();
        cells.Jobs[s_jobB].Published.ShouldBeFalse();
        cells.Jobs[s_jobA].Published.ShouldBeFalse("all jobs minus job A would be the one person on job B");
    }

    [Fact]
    public void TwoPublishedJobsCannotBeAddedUpAndTakenFromTheTotalToRevealAThird()
    {
        var facts = People(s_jobA, 5).Concat(People(s_jobB, 6, offset: 5)).Concat(People(s_jobC, 1, offset: 11)).ToList();

        var cells = CellSuppression.Partition(facts);

        cells.AllJobs.Published.ShouldBeTrue();
        (cells.Jobs[s_jobA].Published && cells.Jobs[s_jobB].Published).ShouldBeFalse("A + B subtracted from all jobs would be job C's one person");
        cells.Jobs[s_jobB].Published.ShouldBeTrue("the residual A + C has six people");
    }

    [Fact]
    public void SomeoneOnTwoJobsIsCountedOnceAndTheResidualCountsPeopleNotSessions()
    {
        // The one person on job B also works on job A: the residual is still that one person.
        var facts = People(s_jobA, 5).Append(new SessionFact(Person(0), s_jobB, 99_000, 1234, 0, 0)).ToList();

        var cells = CellSuppression.Partition(facts);

        cells.AllJobs.Figures.Contributors.ShouldBe(5);
        cells.Jobs[s_jobA].Published.ShouldBeFalse();
    }

    [Fact]
    public void OverRandomMonthsNoSumOrDifferenceOfPublishedCellsIsBuiltFromOneToFourPeople()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var jobs = Enumerable.Range(1, 5).Select(i => new Guid(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte)i)).ToArray();
        for (var round = 0; round < 500; round++)
        {
            var facts = new List<SessionFact>();
            var people = random.Next(1, 16);
            for (var p = 0; p < people; p++)
            {
                foreach (var job in jobs.Where(_ => random.NextDouble() < 0.3))
                {
                    facts.Add(new SessionFact(Person(p), job, random.Next(1, 100_000), random.Next(1, 5000), 0, 0));
                }
            }
            var cells = CellSuppression.Partition(facts);
            var published = cells.Jobs.Where(j => j.Value.Published).Select(j => j.Key).ToList();
            published.ShouldAllBe(j => cells.Jobs[j].Figures.Contributors >= 5);
            if (!cells.AllJobs.Published)
            {
                published.ShouldBeEmpty();
                continue;
            }
            // Any figure derivable from the month's published cells is the total minus some published jobs, or a sum of
            // published jobs; each must be built from nobody or from at least five people.
            for (var mask = 0; mask < 1 << published.Count; mask++)
            {
                var taken = published.Where((_, i) => (mask & (1 << i)) != 0).ToHashSet();
                var rest = facts.Where(f => !taken.Contains(f.JobId)).Select(f => f.ContributorId).Distinct().Count();
                rest.ShouldSatisfyAllConditions(() => (rest == 0 || rest >= 5).ShouldBeTrue($"all jobs minus {taken.Count} published jobs leaves {rest} people"));
            }
        }
    }
}
