using Crowd.Server.Features.Payouts;

namespace Crowd.Server.Tests.Features.Payouts;

public sealed class PayoutMethodRulesTests
{
    [Theory]
    [InlineData(PayoutAccountKind.BankCard, "6222 0000 1111 2222", "6222000011112222")]
    [InlineData(PayoutAccountKind.BankCard, "6222-0000-1111-2222-333", "6222000011112222333")]
    [InlineData(PayoutAccountKind.BankCard, "622200001111", "622200001111")]
    [InlineData(PayoutAccountKind.Alipay, "13812345678", "13812345678")]
    [InlineData(PayoutAccountKind.Alipay, " wang.fang@example.cn ", "wang.fang@example.cn")]
    [InlineData(PayoutAccountKind.WeChatPay, "wangfang_88", "wangfang_88")]
    [InlineData(PayoutAccountKind.WeChatPay, "13812345678", "13812345678")]
    public void AWellFormedNumberIsKeptAsTheBankFileNeedsIt(PayoutAccountKind kind, string typed, string kept)
    {
        var (number, errors) = PayoutMethodRules.Validate("Wang Fang", kind, typed);

        errors.ShouldBeEmpty();
        number.ShouldBe(kept);
    }

    [Theory]
    [InlineData(PayoutAccountKind.BankCard, "1", "Enter the bank card number: 12 to 19 digits.")]
    [InlineData(PayoutAccountKind.BankCard, "62220000111122223333", "Enter the bank card number: 12 to 19 digits.")]
    [InlineData(PayoutAccountKind.BankCard, "6222 0000 1111 222A", "Enter the bank card number: 12 to 19 digits.")]
    [InlineData(PayoutAccountKind.Alipay, "wang", "Enter the Alipay account: the mobile number or email address it is registered with.")]
    [InlineData(PayoutAccountKind.WeChatPay, "1wang", "Enter the WeChat Pay account: the mobile number or WeChat ID it is registered with.")]
    public void AMalformedNumberIsRefusedNamingTheField(PayoutAccountKind kind, string typed, string message)
    {
        var (number, errors) = PayoutMethodRules.Validate("Wang Fang", kind, typed);

        number.ShouldBeNull();
        errors.Select(e => (e.Field, e.Message)).ShouldBe([("accountNumber", message)]);
    }

    [Fact]
    public void ANameAndAKindAreRequired()
    {
        var (_, errors) = PayoutMethodRules.Validate(" ", null, "6222000011112222");

        errors.Select(e => e.Field).ShouldBe(["payeeName", "accountNumber"]);
        errors[1].Message.ShouldBe("Choose whether payouts go to a bank card, Alipay or WeChat Pay.");
    }

    [Fact]
    public void OnlyTheLastFourCharactersAreEverShown()
    {
        PayoutMethodRules.LastFour("6222 0000 1111 2222").ShouldBe("2222");
        PayoutMethodRules.LastFour("wang.fang@example.cn").ShouldBe("e.cn");
        PayoutMethodRules.Masked("2222").ShouldBe("•••• 2222");
    }
}
