using System.Collections.Concurrent;
using System.Net;
using Crowd.Server.Features.DeletionNotices;
using Crowd.Server.Tests.Features.Withdrawal;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Crowd.Server.Tests.Features.DeletionNotices;

/// <summary>
/// The network as the test host lets webhooks see it: names can be given answers (one after the other, the last one
/// kept), and the host's own loopback listeners can be allowed. Registered only by test hosts; production has no way to.
/// </summary>
public sealed class TestWebhookNetwork(bool allowLoopback) : WebhookNetwork
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<IPAddress[]>> _answers = new(StringComparer.OrdinalIgnoreCase);

    public void Answer(string host, params IPAddress[][] answers) => _answers[host] = new ConcurrentQueue<IPAddress[]>(answers);

    public override Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
    {
        if (!_answers.TryGetValue(host, out var queue))
        {
            return base.ResolveAsync(host, ct);
        }
        var answer = queue.Count > 1 && queue.TryDequeue(out var next) ? next : queue.TryPeek(out var last) ? last : [];
        return Task.FromResult(answer);
    }

    public override bool Allows(IPAddress address) => (allowLoopback && IPAddress.IsLoopback(address)) || base.Allows(address);
}

/// <summary>
/// The withdrawal server with a clock the tests move (webhook backoff without waiting) and a webhook network that
/// reaches the tests' loopback listeners.
/// </summary>
public sealed class DeletionNoticesApp : WithdrawalApp
{
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    public TestWebhookNetwork Network { get; } = new(allowLoopback: true);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(s =>
        {
            s.AddSingleton<TimeProvider>(Time);
            s.AddSingleton<WebhookNetwork>(Network);
        });
    }
}

/// <summary>The withdrawal server with the production rule for webhook addresses (nothing inside), and names the tests answer.</summary>
public sealed class PublicWebhooksApp : WithdrawalApp
{
    public TestWebhookNetwork Network { get; } = new(allowLoopback: false);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(s => s.AddSingleton<WebhookNetwork>(Network));
    }
}
