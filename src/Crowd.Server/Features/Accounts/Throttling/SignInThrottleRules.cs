namespace Crowd.Server.Features.Accounts.Throttling;

/// <summary>What a run of failed sign-ins is counted against.</summary>
public enum ThrottleScope
{
    /// <summary>One account from one client address: the guesser at a keyboard.</summary>
    AccountFromAddress = 1,

    /// <summary>One client address across all accounts: one machine trying many accounts.</summary>
    Address = 2,

    /// <summary>One account from every address: many machines on one account. A device that has signed in to the account
    /// before is not held back by it, so strangers cannot keep the owner out.</summary>
    Account = 3,
}

/// <param name="FreeFailures">Failures answered at once; each one after them doubles the wait, from one second.</param>
/// <param name="MaxDelay">The longest wait one more failure can cause.</param>
public sealed record ThrottleRule(int FreeFailures, TimeSpan MaxDelay);

/// <summary>
/// Failed sign-ins slow the next attempt down instead of locking the account: a lockout is a weapon (five wrong passwords
/// from anyone locked the owner out), a growing delay is not, and it still makes guessing hopeless. Pure.
/// </summary>
public static class SignInThrottleRules
{
    /// <summary>A key with no failure for this long starts again from nothing.</summary>
    public static readonly TimeSpan ForgetAfter = TimeSpan.FromHours(1);

    public static ThrottleRule RuleFor(ThrottleScope scope) => scope switch
    {
        ThrottleScope.AccountFromAddress => new(5, TimeSpan.FromMinutes(15)),
        // A school or office behind one address signs many people in; it gets more room before it slows down.
        ThrottleScope.Address => new(20, TimeSpan.FromMinutes(15)),
        // Short, because it applies to the owner too when they sign in from a new device.
        ThrottleScope.Account => new(10, TimeSpan.FromMinutes(1)),
        _ => throw new ArgumentOutOfRangeException(nameof(scope)),
    };

    /// <summary>The wait that <paramref name="failures"/> consecutive failures impose after the last of them.</summary>
    public static TimeSpan Delay(int failures, ThrottleRule rule)
    {
        if (failures < rule.FreeFailures)
        {
            return TimeSpan.Zero;
        }
        var doublings = failures - rule.FreeFailures;
        return doublings >= 30 ? rule.MaxDelay : TimeSpan.FromSeconds(Math.Min(1L << doublings, (long)rule.MaxDelay.TotalSeconds));
    }

    /// <summary>How long from <paramref name="now"/> until the next attempt is looked at; zero when it may go ahead.</summary>
    public static TimeSpan Wait(int failures, DateTimeOffset lastFailureAt, DateTimeOffset now, ThrottleRule rule)
    {
        if (now - lastFailureAt >= ForgetAfter)
        {
            return TimeSpan.Zero;
        }
        var until = lastFailureAt + Delay(failures, rule);
        return until > now ? until - now : TimeSpan.Zero;
    }
}
