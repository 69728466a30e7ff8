using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Crowd.Server.Tests.Infrastructure;

/// <summary>
/// Lets a test say which client address a request comes from (the in-memory server gives every request none), through a
/// header that only the test host reads. Registered by test apps that need several callers.
/// </summary>
public sealed class ClientAddressFromHeader : IStartupFilter
{
    public const string Header = "X-Test-Client-Address";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            if (context.Request.Headers.TryGetValue(Header, out var value) && IPAddress.TryParse(value, out var address))
            {
                context.Connection.RemoteIpAddress = address;
            }
            return nextMiddleware(context);
        });
        next(app);
    };

    private static int s_last;

    /// <summary>A fresh address from the benchmarking range 198.18.0.0/15, so tests do not share limits by accident.</summary>
    public static string NewAddress()
    {
        var n = Interlocked.Increment(ref s_last);
        return $"198.18.{n / 250}.{n % 250 + 1}";
    }
}
