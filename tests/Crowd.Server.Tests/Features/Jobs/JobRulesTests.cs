using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Money;

namespace Crowd.Server.Tests.Features.Jobs;

public sealed class JobRulesTests
{
    private static readonly JobTerms s_valid = JobTerms.Defaults.With(JobsTestData.ValidJob());

    private static IEnumerable<string> FieldsWrongIn(JobTerms terms) => JobRules.Validate(terms).Select(e => e.Field);

    [Fact]
    public void AValidJobHasNoErrors() => JobRules.Validate(s_valid).ShouldBeEmpty();

    [Fact]
    public void DefaultsAreOneToFifteenSecondClipsAndAYearsRetention()
    {
        (JobTerms.Defaults.ClipMinMs, JobTerms.Defaults.ClipMaxMs, JobTerms.Defaults.RetentionDays, JobTerms.Defaults.TakesPerPrompt)
            .ShouldBe((1_000, 15_000, 365, 1));
        JobTerms.Defaults.PurposeVoiceCloning.ShouldBeFalse();
    }

    [Fact]
    public void AnEmptyJobNamesEveryRequiredField() =>
        FieldsWrongIn(JobTerms.Defaults).ShouldBe(["title", "language", "currency", "hourlyRate", "region", "buyerName"], ignoreOrder: true);

    [Theory]
    [InlineData("en", true)]
    [InlineData("zh-CN", true)]
    [InlineData("zh-Hans-CN", true)]
    [InlineData("yue", true)]
    [InlineData("zh_CN", false)]
    [InlineData("chinese!", false)]
    [InlineData("z", false)]
    [InlineData("-en", false)]
    public void LanguagesAreBcp47Tags(string tag, bool valid) => JobRules.IsLanguageTag(tag).ShouldBe(valid);

    [Fact]
    public void AnUpsideDownClipRangeIsRefused() =>
        FieldsWrongIn(s_valid with { ClipMinMs = 10_000, ClipMaxMs = 5_000 }).ShouldBe(["clipMaxMs"]);

    [Fact]
    public void EqualClipBoundsAreRefused() =>
        FieldsWrongIn(s_valid with { ClipMinMs = 5_000, ClipMaxMs = 5_000 }).ShouldBe(["clipMaxMs"]);

    [Fact]
    public void ClipsUpToSixtySecondsAreAllowed() =>
        FieldsWrongIn(s_valid with { ClipMaxMs = 60_000 }).ShouldBeEmpty();

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ARateOfZeroOrLessIsRefused(long minor) =>
        FieldsWrongIn(s_valid with { HourlyRateMinor = minor }).ShouldBe(["hourlyRate"]);

    [Fact]
    public void AnUnknownCurrencyIsRefusedNamingTheSupportedOnes()
    {
        var error = JobRules.Validate(s_valid with { Currency = "XYZ" }).ShouldHaveSingleItem();
        error.Field.ShouldBe("currency");
        error.Arguments[1].ToString()!.ShouldContain("CNY");
    }

    [Fact]
    public void AtLeastOnePurposeIsNeeded()
    {
        FieldsWrongIn(s_valid with { PurposeSpeechRecognition = false, PurposeVoiceCloning = false }).ShouldBe(["purposes"]);
        FieldsWrongIn(s_valid with { PurposeSpeechRecognition = false, PurposeVoiceCloning = true }).ShouldBeEmpty();
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(1095, true)]
    [InlineData(1096, false)]
    public void RetentionIsOneDayToThreeYears(int days, bool valid) =>
        FieldsWrongIn(s_valid with { RetentionDays = days }).Any().ShouldBe(!valid);

    [Fact]
    public void ThresholdsStayInTheirRanges()
    {
        FieldsWrongIn(s_valid with { MinSnrDb = 61 }).ShouldBe(["minSnrDb"]);
        FieldsWrongIn(s_valid with { MaxClippingRatio = double.NaN }).ShouldBe(["maxClippingRatio"]);
        FieldsWrongIn(s_valid with { MinSpeechRatio = 1.01 }).ShouldBe(["minSpeechRatio"]);
    }

    [Fact]
    public void OverLongTextsAreRefused() =>
        FieldsWrongIn(s_valid with { Title = new string('t', 201), EnvironmentNotes = new string('e', 2001), BuyerName = new string('b', 201) })
            .ShouldBe(["title", "environmentNotes", "buyerName"], ignoreOrder: true);

    [Fact]
    public void MergingARequestKeepsWhatItDoesNotMention()
    {
        var merged = s_valid.With(new JobRequest(HourlyRate: new Money(3500, "cny")));

        merged.ShouldBe(s_valid with { HourlyRateMinor = 3500 });
        s_valid.With(new JobRequest()).ShouldBe(s_valid);
    }
}
