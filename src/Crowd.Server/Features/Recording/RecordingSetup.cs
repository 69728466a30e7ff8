using System.Security.Claims;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Features.Recording.Streaming;
using Crowd.Server.Features.Recording.Tasks;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Recording;

public static class RecordingSetup
{
    public static IServiceCollection AddCrowdRecording(this IServiceCollection services)
    {
        services.AddSignalR(o =>
        {
            // A 100 ms chunk is ~4.3 KB of base64; anything near this size is not audio the recorder sends.
            o.MaximumReceiveMessageSize = 64 * 1024;
            // Pings and Discard may arrive while Record is receiving a take.
            o.MaximumParallelInvocationsPerClient = 2;
            o.StreamBufferCapacity = 20;
        });
        services.AddSingleton<SessionRegistry>();
        services.AddScoped<WorkerSessions>();
        services.AddScoped<TaskClaims>();
        services.AddScoped<ConsentGate>();
        services.AddSingleton<ClipPaths>();
        services.AddSingleton<ClipMasterKey>();
        services.AddSingleton<IClipStore, DirectoryClipStore>();
        services.AddSingleton<ClipVault>();
        services.AddHostedService<SessionCheckpointer>();
        return services;
    }

    public static IEndpointRouteBuilder MapRecording(this IEndpointRouteBuilder app)
    {
        app.MapHub<RecordingHub>(RecordingHub.Path);
        var group = app.MapGroup("/api/recording").WithTags("Recording")
            .RequireAuthorization(Roles.Contributor)
            .RequireRateLimiting(WebSetup.ApiLimit);
        group.MapPost("/jobs/{jobId:guid}/consent", GiveConsent).DisableAntiforgery();
        return app;
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> GiveConsent(Guid jobId, ClaimsPrincipal user, ConsentGate gate,
        IStringLocalizer<RecordingText> text, CancellationToken ct) =>
        await gate.GiveAsync(jobId, user.UserId(), ct)
            ? TypedResults.NoContent()
            : Problems.Problem(StatusCodes.Status404NotFound, text, "Job not found", RecordingErrors.JobNotOpen);
}

/// <summary>Texts of the recording feature. Translations in RecordingText.zh-Hans.resx.</summary>
public sealed class RecordingText;
