using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;

namespace Crowd.Server.Features.Processing;

/// <summary>The records of processing as JSON for admins: <c>/api/admin/processing.json</c>.</summary>
public static class ProcessingApi
{
    public static RouteGroupBuilder MapProcessing(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin").WithTags("Records of processing")
            .RequireAuthorization(Roles.Admin)
            .RequireRateLimiting(WebSetup.ApiLimit);
        group.MapGet("/processing.json", async (CrowdDb db, TimeProvider clock, CancellationToken ct) =>
            TypedResults.Ok(await ProcessingRecords.BuildAsync(db, clock.GetUtcNow(), ct)));
        return group;
    }
}

/// <summary>Texts of the records of processing. Translations in ProcessingText.zh-Hans.resx.</summary>
public sealed class ProcessingText;
