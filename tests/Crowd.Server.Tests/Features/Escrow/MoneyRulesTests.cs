using System.Text.Json;
using Crowd.Server.Features.Earnings;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crowd.Server.Tests.Features.Escrow;

/// <summary>The money limits as pure rules, with the figures the outside probe used.</summary>
public sealed class MoneyRulesTests
{
    [Fact]
    public void TwoToTheSixtySecondForFourHoursIsABudgetPastTheMaximumNotZero()
    {
        BudgetRules.TryBudgetMinor(4, 1L << 62, 1000, 0).ShouldBeNull();
        Should.Throw<AmountOutOfRangeException>(() => BudgetRules.BudgetMinor(4, 1L << 62, 1000, 0)).Field.ShouldBe("targetHours");
        BudgetRules.TryBudgetMinor(1, long.MaxValue, 0, 0).ShouldBeNull();
        BudgetRules.ValidateTotal(4, 1L << 62, 1000, 0, "CNY", "hourlyRate").ShouldHaveSingleItem().Field.ShouldBe("hourlyRate");
    }

    [Fact]
    public void TheLargestRateForTheMostHoursWithTheHighestFeesStaysUnderTenToTheFifteenth()
    {
        var budget = BudgetRules.BudgetMinor(BudgetRules.MaxTargetHours, JobRules.MaxHourlyRateMinor, PayCalculator.BasisPoints, JobRules.MaxSupplierFeeBp);

        budget.ShouldBe(25_000_000_000_000); // 10^13 of pay + 100 % + 50 %
        budget.ShouldBeLessThan(BudgetRules.MaxBudgetMinor);
        BudgetRules.MaxBudgetMinor.ShouldBe(999_999_999_999_999);
    }

    [Fact]
    public void PayPastTheRangeOfAnAmountIsRefusedNamingTheRateNotWrapped()
    {
        Should.Throw<AmountOutOfRangeException>(() => PayCalculator.PayForActiveTime(long.MaxValue, long.MaxValue)).Field.ShouldBe("hourlyRate");
        Should.Throw<AmountOutOfRangeException>(() => PayCalculator.PayForActiveTime(4 * PayCalculator.MsPerHour, long.MaxValue)).Field.ShouldBe("hourlyRate");
        Should.Throw<AmountOutOfRangeException>(() => PayCalculator.Fee(long.MaxValue, 10_000 + 1)).Field.ShouldBe("fees");
        PayCalculator.PayForActiveTime(PayCalculator.MsPerHour, long.MaxValue).ShouldBe(long.MaxValue);
    }

    [Fact]
    public void AnAccrualTakesWhatTheEscrowHoldsAndThePlatformAdvancesTheRest()
    {
        EscrowRules.Draw(new EscrowBalance(2_000, 0), 3_000).ShouldBe((2_000L, 1_000L));
        EscrowRules.Draw(new EscrowBalance(5_000, 0), 3_000).ShouldBe((3_000L, 0L));
        EscrowRules.Draw(new EscrowBalance(0, 700), 3_000).ShouldBe((0L, 3_000L));
    }

    [Fact]
    public void MoneyComingInRepaysTheAdvanceFirstAndAClosedJobRefundsOnlyWhatIsLeft()
    {
        EscrowRules.Receive(new EscrowBalance(0, 1_000), 5_000).ShouldBe((1_000L, 4_000L));
        EscrowRules.Receive(new EscrowBalance(0, 9_000), 5_000).ShouldBe((5_000L, 0L));
        EscrowRules.Release(new EscrowBalance(10_000, 3_000)).ShouldBe((3_000L, 7_000L));
        EscrowRules.Release(new EscrowBalance(1_000, 3_000)).ShouldBe((1_000L, 0L));
    }

    [Fact]
    public void AFundingIsRefusedPastWhatOneEscrowCanHoldCountingWhatItHoldsAlready()
    {
        EscrowRules.ValidateFunding(long.MaxValue, "CNY").ShouldHaveSingleItem().Field.ShouldBe("amount");
        EscrowRules.ValidateFunding(EscrowRules.MaxEscrowMinor, "CNY").ShouldBeEmpty();
        EscrowRules.ValidateFunding(2, "CNY", new EscrowBalance(EscrowRules.MaxEscrowMinor - 1, 0)).ShouldHaveSingleItem();
        EscrowRules.ValidateFunding(2, "CNY", new EscrowBalance(EscrowRules.MaxEscrowMinor - 1, 1)).ShouldBeEmpty("one fen repays the advance");
    }

    [Fact]
    public void AnEntryBeyondTheBoundIsRefusedBeforeItReachesTheDatabase()
    {
        var posting = LedgerPosting.Transfer(LedgerTransactionKind.Correction, "typo", "typo", AccountRef.External("CNY"), AccountRef.Escrow(Guid.NewGuid(), "CNY"),
            LedgerRules.MaxEntryMinor + 1);

        LedgerRules.Problems(posting).ShouldBe([$"An entry of -{LedgerRules.MaxEntryMinor + 1} is beyond ±{LedgerRules.MaxEntryMinor}.",
            $"An entry of {LedgerRules.MaxEntryMinor + 1} is beyond ±{LedgerRules.MaxEntryMinor}."]);
    }

    [Theory]
    [InlineData("79228162514264337593543950335", "CNY", null)]
    [InlineData("92233720368547758.07", "CNY", long.MaxValue)]
    [InlineData("92233720368547758.08", "CNY", null)]
    [InlineData("-92233720368547758.08", "CNY", long.MinValue)]
    [InlineData("9223372036854775808", "JPY", null)]
    [InlineData("27.70", "CNY", 2770L)]
    public void AmountsTypedInMajorUnitsAreReadExactlyOrRefusedNeverThrown(string text, string currency, long? minor) =>
        Currencies.ParseMajor(text, currency).ShouldBe(minor);

    [Fact]
    public async Task AComputationPastTheRangeOfAnAmountAnswersA400NamingItsFieldInTheCallersLanguage()
    {
        var services = new ServiceCollection().AddLogging().AddLocalization().BuildServiceProvider();
        var handler = new AmountOutOfRangeHandler(services.GetRequiredService<IStringLocalizer<WebText>>(), NullLogger<AmountOutOfRangeHandler>.Instance);
        var http = new DefaultHttpContext { RequestServices = services };
        http.Response.Body = new MemoryStream();
        var culture = System.Globalization.CultureInfo.CurrentUICulture;
        System.Globalization.CultureInfo.CurrentUICulture = new System.Globalization.CultureInfo("zh-Hans");
        try
        {
            (await handler.TryHandleAsync(http, new AmountOutOfRangeException("hourlyRate", "too large"), default)).ShouldBeTrue();
            (await handler.TryHandleAsync(new DefaultHttpContext(), new OverflowException(), default)).ShouldBeFalse("only money computations are its business");
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentUICulture = culture;
        }

        http.Response.StatusCode.ShouldBe(StatusCodes.Status400BadRequest);
        http.Response.Body.Position = 0;
        using var problem = await JsonDocument.ParseAsync(http.Response.Body);
        problem.RootElement.GetProperty("errors").GetProperty("hourlyRate")[0].GetString().ShouldBe("这个数字会使金额超出可处理的范围。请输入较小的数字。");
    }
}
