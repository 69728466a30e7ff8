using Crowd.Server.Tests.Features.Recording;
using Microsoft.AspNetCore.Hosting;

namespace Crowd.Server.Tests.Features.Withdrawal;

/// <summary>The server with clips in a folder of its own, plain-http webhooks allowed (a local listener) and quick retries.</summary>
public class WithdrawalApp : RecordingApp
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crowd:Webhooks:AllowInsecureUrls", "true");
        builder.UseSetting("Crowd:Webhooks:RetryBaseSeconds", "0.2");
        builder.UseSetting("Crowd:Webhooks:MaxAttempts", "3");
    }
}
