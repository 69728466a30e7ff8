using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Crowd.Server.Tests.Browser;

/// <summary>The server on a real Kestrel port on 127.0.0.1, for what the in-memory test server cannot show (a browser, real headers).</summary>
public class KestrelApp : CrowdApp
{
    public Uri Address { get; private set; } = null!;

    /// <summary>The port to listen on; 0 takes a free one. A test that configures its own address chooses it ahead.</summary>
    protected virtual int Port => 0;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        UseKestrel(Port);
        StartServer();
        var bound = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Address = new Uri(bound.Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        ClientOptions.BaseAddress = Address;
    }
}

/// <summary>
/// The server on a real loopback port (a browser cannot reach the in-memory test server) and headless Chromium
/// from Debian driven by Playwright. One per browser test class.
/// </summary>
public class BrowserApp : KestrelApp
{
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Every content-security-policy violation any page of this fixture reported; browser tests end by checking it is empty.</summary>
    public CspWatch Csp { get; } = new();

    /// <summary>Where screenshots go; the tests print it.</summary>
    public static string ScreenshotDirectory { get; } =
        Path.Combine(ServerProcess.RepositoryRoot, "TestResults", "screenshots");

    /// <summary>Extra Chromium switches, e.g. a fake microphone fed from a WAV file.</summary>
    protected virtual IEnumerable<string> ExtraBrowserArguments => [];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Directory.CreateDirectory(ScreenshotDirectory);

        _playwright = await Playwright.CreateAsync();
        Browser = await LaunchChromiumAsync(_playwright, ExtraBrowserArguments);
    }

    /// <summary>Debian's Chromium, headless, with the switches this machine's closed network and root user need.</summary>
    public static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright, IEnumerable<string> extraArguments) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("CROWD_CHROMIUM") ?? "/usr/bin/chromium",
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", .. extraArguments,
            ],
        });

    public async Task<IPage> NewPageAsync(string locale = "en-US")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { Locale = locale, BaseURL = Address.ToString() });
        await Csp.WatchAsync(context);
        return await context.NewPageAsync();
    }

    /// <summary>A page whose browser signed in through the sign-in form.</summary>
    public async Task<IPage> SignedInPageAsync(string email, string locale = "en-US")
    {
        var page = await NewPageAsync(locale);
        await page.GotoAsync("/Account/SignIn");
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", TestAccounts.Password);
        await page.GetByTestId("signin-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("signed-in-as")).ToBeVisibleAsync();
        return page;
    }

    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(ScreenshotDirectory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public override async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// Collects what the content security policy blocked in the pages it watches: the browser's console report and the
/// page's own securitypolicyviolation event, so a script, style, worklet or connection the policy forgot fails the test.
/// </summary>
public sealed class CspWatch
{
    private readonly List<string> _violations = [];
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_violations)
            {
                return [.. _violations];
            }
        }
    }

    public async Task WatchAsync(IBrowserContext context)
    {
        await context.AddInitScriptAsync("""
            document.addEventListener('securitypolicyviolation', (e) =>
              console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} in ${e.sourceFile || e.documentURI}`));
            """);
        context.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal) || message.Text.StartsWith("CSP violation", StringComparison.Ordinal))
            {
                lock (_violations)
                {
                    _violations.Add(message.Text);
                }
                _first.TrySetResult();
            }
        };
    }

    /// <summary>Completes when the first violation is reported.</summary>
    public Task FirstViolation => _first.Task;

    public void ShouldBeClean() => Violations.ShouldBeEmpty("the content security policy blocked something a page needs");
}
