using System.Globalization;
using System.Net;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.Payouts;

/// <summary>The server on a clock the test sets: when the next payout is depends on the hour of the day.</summary>
public sealed class NextPayoutApp : CrowdApp
{
    public FakeTimeProvider Time { get; } = new(MoneyWorld.ClockStart);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(Time));
    }
}

public sealed class NextPayoutTests(NextPayoutApp app) : IClassFixture<NextPayoutApp>
{
    [Theory]
    [InlineData("14:20:00", "Paid every hour; your next payout is at 15:00 UTC, about 40 minutes from now.")]
    [InlineData("23:30:00", "Paid every hour; your next payout is on {tomorrow} 00:00 UTC, about 30 minutes from now.")]
    [InlineData("23:59:40", "Paid every hour; your next payout is on {tomorrow} 00:00 UTC, in less than a minute.")]
    public async Task TheEarningsPageSaysWhenTheNextPayoutIsWithTheDateOnceItIsTomorrow(string timeOfDay, string said)
    {
        // The cases share the app's clock, which only goes forward: each moves it on to the next time the day reaches timeOfDay.
        var now = NextOccurrence(app.Time.GetUtcNow(), TimeSpan.Parse(timeOfDay, CultureInfo.InvariantCulture));
        app.Time.SetUtcNow(now);
        var contributor = await app.CreateUserAsync(Roles.Contributor);
        using var client = await app.SignedInClientAsync(contributor.Email!);

        var html = WebUtility.HtmlDecode(await client.GetPageAsync("/Earnings", "en"));

        html.ShouldContain(said.Replace("{tomorrow}", now.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), StringComparison.Ordinal));
    }

    private static DateTimeOffset NextOccurrence(DateTimeOffset from, TimeSpan timeOfDay)
    {
        var sameDay = new DateTimeOffset(from.UtcDateTime.Date, TimeSpan.Zero) + timeOfDay;
        return sameDay >= from ? sameDay : sameDay.AddDays(1);
    }
}
