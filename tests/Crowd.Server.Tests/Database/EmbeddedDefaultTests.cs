using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Crowd.Server.Tests.Database;

/// <summary>The server as a newcomer runs it: no connection string, so it starts and keeps its own PostgreSQL.</summary>
public sealed class EmbeddedDefaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task WithNoConnectionStringTheServerRunsItsOwnDatabaseAndFindsItsDataAfterARestart()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "crowd-embedded-" + Guid.NewGuid().ToString("N")[..8]);
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Crowd"] = "",
            ["Crowd__DataDirectory"] = dataDirectory,
        };
        var email = TestAccounts.NewEmail(Roles.Contributor);
        try
        {
            var (first, firstStart) = await ServerProcess.StartAsync(environment);
            await using (first)
            {
                using var http = new HttpClient { BaseAddress = first.Address };
                var signUp = await http.PostAsJsonAsync("/api/accounts/signup",
                    new SignUpRequest(email, TestAccounts.Password, "Wang Fang", new DateOnly(1995, 3, 8), Roles.Contributor));
                signUp.StatusCode.ShouldBe(HttpStatusCode.Accepted, first.Output);
                await first.StopAsync();
            }
            PostgresRunsIn(dataDirectory).ShouldBeFalse("stopping the server stops its database");

            var (second, secondStart) = await ServerProcess.StartAsync(environment);
            await using (second)
            {
                using var http = new HttpClient { BaseAddress = second.Address };
                var signIn = await http.PostAsJsonAsync("/api/accounts/signin", new SignInRequest(email, TestAccounts.Password));
                signIn.StatusCode.ShouldBe(HttpStatusCode.OK, second.Output);
                await second.StopAsync();
            }

            output.WriteLine($"Cold start to /health 200 with the embedded database: first {firstStart.TotalSeconds:F1} s (creates the cluster), second {secondStart.TotalSeconds:F1} s");
        }
        finally
        {
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    private static bool PostgresRunsIn(string dataDirectory)
    {
        using var pgrep = Process.Start(new ProcessStartInfo("pgrep", ["-f", dataDirectory]) { RedirectStandardOutput = true })!;
        pgrep.WaitForExit();
        return pgrep.ExitCode == 0;
    }
}
