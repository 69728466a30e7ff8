using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Infrastructure.Money;

namespace Crowd.Server.Tests.Features.Recording.Consent;

public sealed class ConsentRulesTests
{
    private static readonly DateOnly s_born = new(2008, 6, 15);

    [Theory]
    [InlineData("2026-06-14", AgeGroup.Minor)]
    [InlineData("2026-06-15", AgeGroup.Adult)]
    [InlineData("2022-06-14", AgeGroup.Child)]
    [InlineData("2022-06-15", AgeGroup.Minor)]
    public void TheAgeGroupChangesOnTheBirthdayItself(string today, AgeGroup expected) =>
        ConsentRules.GroupOn(s_born, DateOnly.Parse(today, System.Globalization.CultureInfo.InvariantCulture)).ShouldBe(expected);

    [Fact]
    public void SomeoneBornOnTheTwentyNinthOfFebruaryComesOfAgeOnTheFirstOfMarchInACommonYear()
    {
        var born = new DateOnly(2008, 2, 29);

        ConsentRules.GroupOn(born, new DateOnly(2026, 2, 28)).ShouldBe(AgeGroup.Minor);
        ConsentRules.GroupOn(born, new DateOnly(2026, 3, 1)).ShouldBe(AgeGroup.Adult);
        ConsentRules.AgeOn(born, new DateOnly(2028, 2, 29)).ShouldBe(20);
    }

    [Theory]
    [InlineData("Li Wei", "li wei")]
    [InlineData("  Li   Wei ", "Li Wei")]
    [InlineData("Ｌｉ\u3000Ｗｅｉ", "Li Wei")] // full-width letters and the ideographic space from a Chinese keyboard
    [InlineData("Zoë", "Zoe\u0308")] // the same letter composed and decomposed
    [InlineData("王小明", "王小明")]
    public void ASignatureMatchesTheAccountNameWhateverItsCaseSpacingOrUnicodeForm(string typed, string account) =>
        ConsentRules.SignatureMatches(typed, account).ShouldBeTrue();

    [Theory]
    [InlineData("Li Wei", "Li Wen")]
    [InlineData("", "Li Wei")]
    [InlineData("   ", "Li Wei")]
    [InlineData("LiWei", "Li Wei")]
    public void ASignatureThatIsNotTheAccountNameDoesNotMatch(string typed, string account) =>
        ConsentRules.SignatureMatches(typed, account).ShouldBeFalse();

    private static ConsentTerms Terms(bool voiceCloning = false, int supplierFeeBp = 0) =>
        new(Guid.Parse("0199a000-0000-7000-8000-000000000001"), "Read short sentences", 3, new string('a', 64), "Acme Speech AI",
            SpeechRecognition: true, voiceCloning, RetentionDays: 365, new Money(3000, "CNY"), supplierFeeBp);

    [Fact]
    public void TheTextNamesTheBuyerEachPurposeRetentionPayHowToWithdrawAndThatDecliningCostsNothing()
    {
        var text = ConsentDocument.Render(Terms(), ConsentDocument.English).Body;

        text.ShouldContain("Acme Speech AI");
        text.ShouldContain("terms version 3");
        text.ShouldContain("Speech recognition");
        text.ShouldContain("365 days");
        text.ShouldContain("30.00 CNY per hour");
        text.ShouldContain("How to withdraw");
        text.ShouldContain("Declining costs nothing");
        text.ShouldNotContain("Voice cloning", Case.Insensitive);
        text.ShouldNotContain("supplier fee", Case.Insensitive);
    }

    [Fact]
    public void VoiceCloningIsItsOwnOptInLineOnlyWhenTheJobAsksForIt()
    {
        var text = ConsentDocument.Render(Terms(voiceCloning: true), ConsentDocument.English);

        text.Paragraphs.Count(p => p.Contains("Voice cloning", StringComparison.Ordinal)).ShouldBe(1);
        text.Paragraphs.Single(p => p.Contains("Voice cloning", StringComparison.Ordinal)).ShouldContain("ONLY if you tick the separate box");
    }

    [Fact]
    public void ASupplierFeeIsDisclosedAsPaidOnTopAndNeverOutOfThePay()
    {
        ConsentDocument.Render(Terms(supplierFeeBp: 250), ConsentDocument.English).Body
            .ShouldContain("A supplier fee of 2.5 % is paid by the requester on top of your pay to the supplier you chose to be counted for, if any; it never reduces your pay.");
        ConsentDocument.Render(Terms(supplierFeeBp: 1000), ConsentDocument.Chinese).Body.ShouldContain("供应商服务费 10 %");
    }

    [Fact]
    public void EachLanguageIsItsOwnTextWithItsOwnHashAndTheHashIsOverTheExactBytes()
    {
        var english = ConsentDocument.Render(Terms(), ConsentDocument.English);
        var chinese = ConsentDocument.Render(Terms(), ConsentDocument.Chinese);

        chinese.Body.ShouldContain("购买方：Acme Speech AI");
        chinese.Sha256.ShouldNotBe(english.Sha256);
        english.Sha256.ShouldBe(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(english.Body))));
        ConsentDocument.Render(Terms(), ConsentDocument.English).Sha256.ShouldBe(english.Sha256, "the same terms give the same text");
        ConsentDocument.Render(Terms() with { Version = 4 }, ConsentDocument.English).Sha256.ShouldNotBe(english.Sha256);
    }
}
