using System.Net;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using static Crowd.Server.Tests.Features.Recording.Consent.ConsentTestData;

namespace Crowd.Server.Tests.Security;

/// <summary>The recording server published at https://crowd.example.org.</summary>
public sealed class PublishedApp : RecordingApp
{
    public const string PublicUrl = "https://crowd.example.org";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crowd:PublicUrl", PublicUrl);
    }
}

public sealed class PublicUrlTests(PublishedApp app) : IClassFixture<PublishedApp>
{
    [Fact]
    public async Task AGuardianRequestSentWithAForgedHostMailsALinkToThePublicAddressOnly()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var (client, _) = await SignedInContributorAsync(app, BornYearsAgo(12));
        var screen = await ScreenAsync(client, job.Id);
        var guardianEmail = $"guardian-{Guid.NewGuid():N}@example.test";
        client.DefaultRequestHeaders.Host = "evil.example";

        (await AskGuardianAsync(client, job.Id, screen, "Test contributor", guardianEmail, voiceCloning: false)).StatusCode.ShouldBe(HttpStatusCode.Accepted);

        var mail = await app.WithDbAsync(db => db.MailOutbox.AsNoTracking().SingleAsync(m => m.ToAddress == guardianEmail));
        mail.Body.ShouldContain($"{PublishedApp.PublicUrl}/Guardian/{GuardianToken(mail.Body)}");
        mail.Body.ShouldNotContain("evil.example");
    }
}

/// <summary>The server as a production deployment with no public address configured.</summary>
public sealed class ProductionWithoutPublicUrlApp : CrowdApp
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseEnvironment("Production");
    }
}

public sealed class ProductionStartTests(ProductionWithoutPublicUrlApp app) : IClassFixture<ProductionWithoutPublicUrlApp>
{
    [Fact]
    public void ProductionRefusesToStartWithoutAPublicUrlAndSaysWhichSettingIsMissing()
    {
        var refused = Should.Throw<OptionsValidationException>(() => app.CreateClient());

        refused.Message.ShouldContain("Crowd__PublicUrl");
    }
}
