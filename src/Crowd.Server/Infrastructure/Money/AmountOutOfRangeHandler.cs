using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Infrastructure.Money;

/// <summary>
/// The last line behind the rules' own limits: a money computation that would leave the range of an amount answers a 400
/// problem naming the field it came from, never a 500 and never a wrapped figure.
/// </summary>
public sealed class AmountOutOfRangeHandler(IStringLocalizer<WebText> text, ILogger<AmountOutOfRangeHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not AmountOutOfRangeException outOfRange)
        {
            return false;
        }
        logger.LogWarning("{Method} {Path} refused: {Message}", httpContext.Request.Method, httpContext.Request.Path, outOfRange.Message);
        var errors = new Dictionary<string, string[]>
        {
            [outOfRange.Field] = [text["This figure makes an amount too large to handle. Enter a smaller one."].Value],
        };
        await TypedResults.ValidationProblem(errors, title: text["Some fields need attention."]).ExecuteAsync(httpContext);
        return true;
    }
}
