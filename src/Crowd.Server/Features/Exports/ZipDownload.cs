using Microsoft.Net.Http.Headers;

namespace Crowd.Server.Features.Exports;

/// <summary>A ZIP written straight into the response as it is put together (a contributor's data, a dataset).</summary>
public static class ZipDownload
{
    public static async Task SendAsync(HttpContext http, string fileName, Func<Stream, CancellationToken, Task> write, CancellationToken ct)
    {
        var response = http.Response;
        response.ContentType = "application/zip";
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = fileName, FileName = fileName }.ToString();
        response.Headers.CacheControl = "no-store";
        try
        {
            await write(response.Body, ct);
        }
        catch (Exception) when (response.HasStarted)
        {
            // Half a ZIP must not look like a whole one: the connection is cut, so the browser reports a failed download.
            http.Abort();
            throw;
        }
    }
}
