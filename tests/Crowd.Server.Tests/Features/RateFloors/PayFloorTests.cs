using Crowd.Server.Features.RateFloors;
using Crowd.Server.Infrastructure.Money;

namespace Crowd.Server.Tests.Features.RateFloors;

public sealed class PayFloorTests
{
    private static readonly RateFloor s_beijing = new() { Region = "CN-BJ", Currency = "CNY", LegalMinimumMinor = 2770, MarketReferenceMinor = 2500 };

    [Theory]
    [InlineData(2770, 2500, 2770)]
    [InlineData(725, 1200, 1200)]
    [InlineData(0, 0, 0)]
    public void TheFloorIsTheLargerOfTheLegalMinimumAndTheMarketReference(long legal, long market, long floor) =>
        PayFloor.Of(legal, market).ShouldBe(floor);

    [Fact]
    public void ARateAtTheFloorMeetsIt() => PayFloor.IsMetBy(new Money(2770, "CNY"), s_beijing).ShouldBeTrue();

    [Fact]
    public void ARateOneFenBelowTheFloorDoesNot() => PayFloor.IsMetBy(new Money(2769, "CNY"), s_beijing).ShouldBeFalse();

    [Fact]
    public void ARateInAnotherCurrencyNeverMeetsTheFloor() => PayFloor.IsMetBy(new Money(999_999, "USD"), s_beijing).ShouldBeFalse();

    [Theory]
    [InlineData("CN-BJ", true)]
    [InlineData("GB", true)]
    [InlineData("US-CA", true)]
    [InlineData("cn-bj", false)]
    [InlineData("", false)]
    [InlineData("CHINA", false)]
    [InlineData("CN-BEIJING", false)]
    public void RegionCodesLookLikeIso3166(string region, bool valid) => RateFloorRules.IsRegionCode(region).ShouldBe(valid);

    [Theory]
    [InlineData(3000, 2770, 8)]
    [InlineData(1400, 1282, 9)]
    [InlineData(2771, 2770, 0)]
    [InlineData(2770, 2770, 0)]
    [InlineData(3000, 3300, -10)]
    [InlineData(2769, 2770, -1)]
    [InlineData(5540, 2770, 100)]
    public void ThePercentAboveAFloorNeverFlattersThePay(long rate, long floor, int percent) =>
        PayFloor.PercentAbove(rate, floor).ShouldBe(percent);

    [Fact]
    public void PayIsComparedWithTheRegionsFloorInItsOwnCurrencyAndOnlyNamedAgainstAnother()
    {
        var germany = new RateFloor { Region = "DE", Currency = "EUR", RegionName = "Germany", LegalMinimumMinor = 1282, MarketReferenceMinor = 1200 };

        PayFloor.Compare(new Money(3000, "CNY"), [s_beijing]).ShouldBe(new PayComparison(new Money(3000, "CNY"), new Money(2770, "CNY"), "", 8));
        PayFloor.Compare(new Money(3000, "CNY"), [germany]).ShouldBe(new PayComparison(new Money(3000, "CNY"), new Money(1282, "EUR"), "Germany", null));
        PayFloor.Compare(new Money(3000, "CNY"), []).ShouldBeNull();
    }
}
