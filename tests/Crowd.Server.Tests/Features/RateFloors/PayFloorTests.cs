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
}
