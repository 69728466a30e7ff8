using System.Net;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.Payouts;

/// <summary>The server on a clock the test sets: when the next payout is depends on the hour of the day.</summary>
public sealed class NextPayoutApp : CrowdApp
{
    public FakeTime Time { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(Time));
    }
}

public sealed class NextPayoutTests(NextPayoutApp app) : IClassFixture<NextPayoutApp>
{
    [Theory]
    [InlineData("2026-11-21T14:20:00Z", "Paid every hour; your next payout is at 15:00 UTC, about 40 minutes from now.")]
    [InlineData("2026-11-21T23:30:00Z", "Paid every hour; your next payout is on 2026-11-22 00:00 UTC, about 30 minutes from now.")]
    [InlineData("2026-11-21T23:59:40Z", "Paid every hour; your next payout is on 2026-11-22 00:00 UTC, in less than a minute.")]
    public async Task TheEarningsPageSaysWhenTheNextPayoutIsWithTheDateOnceItIsTomorrow(string now, string said)
    {
        app.Time.Set(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));
        var contributor = await app.CreateUserAsync(Roles.Contributor);
        using var client = await app.SignedInClientAsync(contributor.Email!);

        var html = WebUtility.HtmlDecode(await client.GetPageAsync("/Earnings", "en"));

        html.ShouldContain(said);
    }
}
