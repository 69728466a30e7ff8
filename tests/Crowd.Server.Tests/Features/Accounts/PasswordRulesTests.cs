using Crowd.Server.Features.Accounts.Passwords;
using Crowd.Server.Features.Accounts.Throttling;

namespace Crowd.Server.Tests.Features.Accounts;

public sealed class PasswordRulesTests
{
    [Theory]
    [InlineData("password12")]
    [InlineData("short pass")]
    [InlineData("password1234")]
    [InlineData("Password1234!")]
    [InlineData("P@ssw0rd2024!")]
    [InlineData("qwertyuiop123")]
    [InlineData("1qaz2wsx3edc")]
    [InlineData("iloveyou1234")]
    [InlineData("woaini1314520")]
    [InlineData("monkeymonkey")]
    [InlineData("aaaaaaaaaaaa")]
    [InlineData("abcabcabcabc")]
    [InlineData("abcdefghijkl")]
    [InlineData("987654321098")]
    [InlineData("correct horse battery staple")]
    [InlineData("crowd crowd 2025")]
    public void CommonShortAndPatternedPasswordsAreRefused(string password) =>
        PasswordRules.Validate(password, ["li.wei@example.test", "Li Wei"]).ShouldHaveSingleItem().Field.ShouldBe("password");

    [Theory]
    [InlineData("correct horse battery")]
    [InlineData("a long enough passphrase")]
    [InlineData("violet kettle under moss")]
    [InlineData("我的声音只属于我自己的录音")]
    public void LongUncommonPassphrasesAreAccepted(string password) =>
        PasswordRules.Validate(password, ["li.wei@example.test", "Li Wei"]).ShouldBeEmpty();

    [Fact]
    public void ThePasswordMayNotBeTheAccountsOwnEmailOrName()
    {
        PasswordRules.Validate("li.wei@example.test", ["li.wei@example.test", "Li Wei"]).ShouldHaveSingleItem()
            .Message.ShouldBe("The password must not be your email address, your name or the name of this site.");
        PasswordRules.Validate("Wang Xiaoming 2024", ["someone@example.test", "Wang Xiaoming"]).ShouldHaveSingleItem()
            .Message.ShouldBe("The password must not be your email address, your name or the name of this site.");
    }

    [Fact]
    public void TheShippedListIsLoadedAndHoldsTheMostCommonPasswords()
    {
        PasswordRules.Common.Count.ShouldBeGreaterThan(1_000);
        PasswordRules.Common.ShouldContain("password");
        PasswordRules.Common.ShouldContain("123456789012");
        PasswordRules.Common.ShouldContain("woaini1314");
        PasswordRules.Common.ShouldAllBe(p => p.Length >= 4 && !p.Any(char.IsUpper));
    }
}

public sealed class SignInThrottleRulesTests
{
    [Fact]
    public void TheWaitDoublesAfterTheFreeFailuresUpToItsMaximum()
    {
        var rule = new ThrottleRule(5, TimeSpan.FromMinutes(15));

        Enumerable.Range(0, 5).Select(n => SignInThrottleRules.Delay(n, rule)).ShouldAllBe(d => d == TimeSpan.Zero);
        SignInThrottleRules.Delay(5, rule).ShouldBe(TimeSpan.FromSeconds(1));
        SignInThrottleRules.Delay(6, rule).ShouldBe(TimeSpan.FromSeconds(2));
        SignInThrottleRules.Delay(9, rule).ShouldBe(TimeSpan.FromSeconds(16));
        SignInThrottleRules.Delay(20, rule).ShouldBe(TimeSpan.FromMinutes(15));
        SignInThrottleRules.Delay(int.MaxValue, rule).ShouldBe(TimeSpan.FromMinutes(15));
    }

    [Fact]
    public void TheWaitCountsFromTheLastFailureAndAnHourOfQuietForgetsEverything()
    {
        var rule = new ThrottleRule(5, TimeSpan.FromMinutes(15));
        var last = new DateTimeOffset(2026, 11, 28, 8, 0, 0, TimeSpan.Zero);

        SignInThrottleRules.Wait(7, last, last.AddSeconds(1), rule).ShouldBe(TimeSpan.FromSeconds(3));
        SignInThrottleRules.Wait(7, last, last.AddSeconds(4), rule).ShouldBe(TimeSpan.Zero);
        SignInThrottleRules.Wait(30, last, last.AddMinutes(59), rule).ShouldBe(TimeSpan.Zero, "past the 15-minute maximum");
        SignInThrottleRules.Wait(30, last, last.AddMinutes(14), rule).ShouldBe(TimeSpan.FromMinutes(1));
        SignInThrottleRules.Wait(30, last, last.AddHours(1), rule).ShouldBe(TimeSpan.Zero);
    }

    [Fact]
    public void TheOwnersAccountWideWaitIsShortSoStrangersCannotLockThemOut() =>
        SignInThrottleRules.RuleFor(ThrottleScope.Account).MaxDelay.ShouldBeLessThanOrEqualTo(TimeSpan.FromMinutes(1));
}
