using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Tests.Infrastructure;

/// <summary>Every setting is checked once, when the server starts: a bad one stops it with the setting's name.</summary>
public sealed class SettingsValidationTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Theory]
    [InlineData("Crowd:Payouts:MinimumMinor", "-100", "The field Crowd:Payouts:MinimumMinor must be between 1")]
    [InlineData("Crowd:Mail:From", "", "The Crowd:Mail:From field is required")]
    [InlineData("Crowd:Scheduler:TakeoverSeconds", "5", "The field Crowd:Scheduler:TakeoverSeconds must be between 30")]
    [InlineData("Crowd:Mail:Smtp:Port", "0", "The field Crowd:Mail:Smtp:Port must be between 1 and 65535")]
    [InlineData("Crowd:Retention:Cron", "daily", "Crowd:Retention:Cron is not a cron expression Crowd can use")]
    public void ABadSettingStopsTheServerFromStartingAndNamesTheSetting(string setting, string value, string message)
    {
        using var misconfigured = app.WithWebHostBuilder(b => b.UseSetting(setting, value));

        var error = Should.Throw<OptionsValidationException>(() => misconfigured.CreateClient());

        error.Message.ShouldContain(message);
    }

    [Fact]
    public void EveryBadSettingIsNamedAtOnce()
    {
        using var misconfigured = app.WithWebHostBuilder(b => b
            .UseSetting("Crowd:Recording:CheckpointSeconds", "60")
            .UseSetting("Crowd:Payouts:PlatformFeeBp", "-1"));

        var error = Should.Throw<OptionsValidationException>(() => misconfigured.CreateClient());

        error.Failures.ShouldContain(f => f.Contains("Crowd:Recording:CheckpointSeconds must be between 1 and 15"));
        error.Failures.ShouldContain(f => f.Contains("Crowd:Payouts:PlatformFeeBp must be between 0 and 10000"));
    }

    [Fact]
    public async Task TheDefaultSettingsStartTheServer()
    {
        using var client = app.CreateClient();

        (await client.GetAsync("/")).IsSuccessStatusCode.ShouldBeTrue();
    }
}
