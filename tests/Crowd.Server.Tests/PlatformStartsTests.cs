using Crowd.Server.Tests.Infrastructure;

namespace Crowd.Server.Tests;

public sealed class PlatformStartsTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task HealthAnswersOkWhenTheDatabaseAnswers()
    {
        var response = await app.CreateClient().GetAsync("/health");
        response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
    }
}
