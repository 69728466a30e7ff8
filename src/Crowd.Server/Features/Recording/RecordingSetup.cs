using System.Globalization;
using System.Security.Claims;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Features.Recording.Sessions;
using Crowd.Server.Features.Recording.Streaming;
using Crowd.Server.Features.Recording.Tasks;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Web;
using MessagePack.Resolvers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Recording;

public static class RecordingSetup
{
    public static WebApplicationBuilder AddRecording(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSignalR(o =>
            {
                // A 100 ms chunk is 3.2 KB of PCM16 (~4.3 KB as base64 over JSON); anything near this size is not audio the recorder sends.
                o.MaximumReceiveMessageSize = 64 * 1024;
                // Pings and Discard may arrive while Record is receiving a take.
                o.MaximumParallelInvocationsPerClient = 2;
                o.StreamBufferCapacity = 20;
            })
            // Binary audio: raw PCM16 bytes instead of base64 text. JSON stays available to older clients.
            .AddMessagePackProtocol(o => o.SerializerOptions = o.SerializerOptions.WithResolver(
                CompositeResolver.Create([AudioChunkFormatter.Instance], [o.SerializerOptions.Resolver])));
        services.AddScoped<WorkerSessions>();
        services.AddSingleton<SessionCheckpoints>();
        services.AddSingleton<LocalSessions>();
        services.AddScoped<TaskClaims>();
        services.AddScoped<ConsentGate>();
        services.AddScoped<ConsentService>();
        services.AddSingleton<ClipPaths>();
        services.AddSingleton<ClipMasterKey>();
        // The directory by default; an S3-compatible bucket when one is configured.
        services.AddSingleton<IClipStore>(sp => sp.GetRequiredService<IOptions<CrowdOptions>>().Value.Clips.S3.Endpoint is null
            ? new DirectoryClipStore(sp.GetRequiredService<ClipPaths>())
            : new S3ClipStore(sp.GetRequiredService<IOptions<CrowdOptions>>()));
        services.AddSingleton<ClipVault>();
        return builder;
    }

    public static RouteGroupBuilder MapRecording(this IEndpointRouteBuilder app)
    {
        app.MapHub<RecordingHub>(RecordingHub.Path);
        var group = app.MapGroup("/api/recording").WithTags("Recording")
            .RequireAuthorization(Roles.Contributor)
            .RequireRateLimiting(WebSetup.ApiLimit);
        group.MapGet("/jobs/{jobId:guid}/consent", GetConsent);
        group.MapPost("/jobs/{jobId:guid}/consent", GiveConsent).DisableAntiforgery();
        group.MapPost("/jobs/{jobId:guid}/consent/guardian", RequestGuardian).DisableAntiforgery();
        return group;
    }

    /// <summary>The exact consent text of the job's current version in the caller's language, and where the caller stands.</summary>
    private static async Task<Results<Ok<ConsentView>, ProblemHttpResult>> GetConsent(Guid jobId, ClaimsPrincipal user, ConsentService consents,
        IStringLocalizer<ConsentText> text, CancellationToken ct)
    {
        var screen = await consents.ScreenAsync(jobId, user.UserId(), ConsentDocument.CultureFor(CultureInfo.CurrentUICulture), ct);
        return screen is null
            ? Problems.Problem(StatusCodes.Status404NotFound, text, "Job not found", "This job is not open for consent.")
            : TypedResults.Ok(new ConsentView(jobId, screen.Terms.Version, screen.Text.Culture, screen.Text.Body, screen.Text.Sha256,
                screen.Terms.VoiceCloning, screen.Age switch { AgeGroup.Adult => "adult", AgeGroup.Minor => "minor", _ => "child" },
                screen.Consented, screen.Pending is not null));
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> GiveConsent(Guid jobId, ConsentRequest request,
        ClaimsPrincipal user, ConsentService consents, IStringLocalizer<ConsentText> text, CancellationToken ct)
    {
        var outcome = await consents.GiveAsync(jobId, user.UserId(), request, ct);
        if (outcome.Kind == ConsentOutcomeKind.Given)
        {
            return TypedResults.NoContent();
        }
        var refusal = Refusal(outcome, request, text).Result;
        return refusal is ValidationProblem invalid ? invalid : (ProblemHttpResult)refusal;
    }

    private static async Task<Results<Accepted, ValidationProblem, ProblemHttpResult>> RequestGuardian(Guid jobId, ConsentRequest request,
        ClaimsPrincipal user, ConsentService consents, IStringLocalizer<ConsentText> text, CancellationToken ct)
    {
        var outcome = await consents.RequestGuardianAsync(jobId, user.UserId(), request, ct);
        if (outcome.Kind == ConsentOutcomeKind.GuardianRequested)
        {
            return TypedResults.Accepted((string?)null);
        }
        var refusal = Refusal(outcome, request, text).Result;
        return refusal is ValidationProblem invalid ? invalid : (ProblemHttpResult)refusal;
    }

    private static Results<ValidationProblem, ProblemHttpResult> Refusal(ConsentOutcome outcome, ConsentRequest request, IStringLocalizer<ConsentText> text) =>
        outcome.Kind switch
        {
            ConsentOutcomeKind.Invalid => Problems.Validation(outcome.Errors!, text),
            ConsentOutcomeKind.NotCurrentVersion => Problems.Problem(StatusCodes.Status409Conflict, text, "The terms have changed",
                "You consented to version {0} of this job's terms, but the current version is {1}. Read version {1} and consent to it.",
                request.Version?.ToString(CultureInfo.InvariantCulture) ?? "?", outcome.CurrentVersion),
            ConsentOutcomeKind.TextChanged => Problems.Problem(StatusCodes.Status409Conflict, text, "The terms have changed",
                "The consent text you read is not the current text of version {0}. Read it again and consent to what it says now.", outcome.CurrentVersion),
            ConsentOutcomeKind.NeedsGuardian when outcome.Age == AgeGroup.Child => Problems.Problem(StatusCodes.Status403Forbidden, text,
                "A guardian's consent is needed",
                "You are under 14, so you cannot consent to recording yourself. Only a parent or guardian can: give their email address on the consent screen, and you can record once they confirm."),
            ConsentOutcomeKind.NeedsGuardian => Problems.Problem(StatusCodes.Status403Forbidden, text, "A guardian's consent is needed",
                "You are under 18, so a parent or guardian must consent too. Give their email address on the consent screen; you can record once they confirm."),
            ConsentOutcomeKind.NotAMinor => Problems.Problem(StatusCodes.Status400BadRequest, text, "No guardian needed",
                "You are 18 or over, so you consent to the terms yourself."),
            _ => Problems.Problem(StatusCodes.Status404NotFound, text, "Job not found", "This job is not open for consent."),
        };
}

public sealed record ConsentView(Guid JobId, int Version, string Culture, string Text, string TextSha256, bool VoiceCloningOffered, string AgeGroup,
    bool Consented, bool GuardianPending);

/// <summary>Texts of the recording feature. Translations in RecordingText.zh-Hans.resx.</summary>
public sealed class RecordingText;
