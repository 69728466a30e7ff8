using Crowd.Server.Tests.Infrastructure;

namespace Crowd.Server.Tests.Browser;

public sealed class BrowserSmokeTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task ChromiumReachesTheServer()
    {
        var page = await app.NewPageAsync();
        await page.GotoAsync("/health");
        (await page.TextContentAsync("body")).ShouldBe("Healthy");
    }
}
