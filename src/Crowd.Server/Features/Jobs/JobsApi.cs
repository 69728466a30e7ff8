using System.Security.Claims;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs.Assessments;
using Crowd.Server.Features.Jobs.Dashboard;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;

namespace Crowd.Server.Features.Jobs;

public sealed record JobResponse(
    Guid Id, string Status, int Version, string Title, string Description, string Language, int TakesPerPrompt,
    int ClipMinMs, int ClipMaxMs, double MinSnrDb, double MaxClippingRatio, double MinSpeechRatio, string EnvironmentNotes,
    Money HourlyRate, string HourlyRateFormatted, string Region, int EstimatedSecondsPerClip, string BuyerName,
    bool PurposeSpeechRecognition, bool PurposeVoiceCloning, int RetentionDays, int PromptCount,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? PublishedAt, bool PeerValidation, JobBudgetResponse? Budget)
{
    public static JobResponse From(Job j, JobBudget? b)
    {
        var t = j.Terms;
        return new(
            j.Id, StatusName(j.Status), j.Version, t.Title, t.Description, t.Language, t.TakesPerPrompt, t.ClipMinMs, t.ClipMaxMs,
            t.MinSnrDb, t.MaxClippingRatio, t.MinSpeechRatio, t.EnvironmentNotes, t.HourlyRate, Currencies.Format(t.HourlyRate), t.Region,
            t.EstimatedSecondsPerClip, t.BuyerName, t.PurposeSpeechRecognition, t.PurposeVoiceCloning, t.RetentionDays, j.PromptCount,
            j.CreatedAt, j.UpdatedAt, j.PublishedAt, j.PeerValidation,
            b is null ? null : new JobBudgetResponse(b.TargetHours, b.PlatformFeeBp, b.SupplierFeeBp,
                new Money(BudgetRules.BudgetMinor(b.TargetHours, t.HourlyRateMinor, b.PlatformFeeBp, b.SupplierFeeBp), t.Currency)));
    }

    public static async Task<JobResponse> LoadAsync(CrowdDb db, Job j, CancellationToken ct) =>
        From(j, await db.Set<JobBudget>().AsNoTracking().SingleOrDefaultAsync(b => b.JobId == j.Id, ct));

    public static string StatusName(JobStatus status) => status switch
    {
        JobStatus.Draft => "draft",
        JobStatus.Published => "published",
        _ => "closed",
    };
}

/// <summary>What the job's escrow must hold: target hours × rate plus the disclosed fees (basis points of pay, on top).</summary>
public sealed record JobBudgetResponse(int TargetHours, int PlatformFeeBp, int SupplierFeeBp, Money Total);

public static class JobsApi
{
    public static WebApplicationBuilder AddJobs(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddScoped<JobService>();
        services.AddScoped<Assessments.ImpactAssessments>();
        services.AddScoped<JobDashboards>();
        services.AddSingleton<DashboardWatchers>();
        services.AddSingleton<DashboardBroadcaster>();
        services.AddHostedService(sp => sp.GetRequiredService<DashboardBroadcaster>());
        return builder;
    }

    public static RouteGroupBuilder MapJobs(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/jobs").WithTags("Jobs")
            .RequireAuthorization(Roles.Requester)
            .RequireRateLimiting(WebSetup.ApiLimit)
            .DisableAntiforgery();
        group.MapPost("/", Create);
        group.MapGet("/", List);
        group.MapGet("/{id:guid}", Get);
        group.MapPut("/{id:guid}", Update);
        group.MapPut("/{id:guid}/prompts", PutPrompts)
            .Accepts<string>("text/plain", "multipart/form-data")
            .WithBodyLimit(PromptRules.MaxUploadRequestBytes);
        group.MapPost("/{id:guid}/publish", Publish);
        group.MapPost("/{id:guid}/close", Close);
        group.MapGet("/{id:guid}/dashboard", Dashboard);
        app.MapHub<DashboardHub>(DashboardHub.Path);
        app.MapAssessments();
        return group;
    }

    private static async Task<Results<Created<JobResponse>, ValidationProblem>> Create(
        JobRequest request, ClaimsPrincipal user, JobService jobs, CrowdDb db, IStringLocalizer<JobsText> text, CancellationToken ct)
    {
        // A new draft has no floor to meet and no version to race, so validation is the only way it can fail.
        var outcome = await jobs.CreateDraftAsync(Org(user), user.UserId(), request, null, ct);
        return outcome.Kind == JobOutcomeKind.Ok
            ? TypedResults.Created($"/api/jobs/{outcome.Job!.Id}", await JobResponse.LoadAsync(db, outcome.Job, ct))
            : Problems.Validation(outcome.Errors ?? [], text);
    }

    private static async Task<Ok<JobResponse[]>> List(ClaimsPrincipal user, CrowdDb db, CancellationToken ct)
    {
        var org = Org(user);
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.OrganisationId == org).OrderByDescending(j => j.CreatedAt).ToListAsync(ct);
        var ids = jobs.Select(j => j.Id).ToArray();
        var budgets = await db.Set<JobBudget>().AsNoTracking().Where(b => ids.Contains(b.JobId)).ToDictionaryAsync(b => b.JobId, ct);
        return TypedResults.Ok(jobs.Select(j => JobResponse.From(j, budgets.GetValueOrDefault(j.Id))).ToArray());
    }

    private static async Task<Results<Ok<JobResponse>, NotFound>> Get(Guid id, ClaimsPrincipal user, CrowdDb db, CancellationToken ct)
    {
        var org = Org(user);
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id && j.OrganisationId == org, ct);
        return job is null ? TypedResults.NotFound() : TypedResults.Ok(await JobResponse.LoadAsync(db, job, ct));
    }

    /// <summary>The figures of the job's dashboard, formatted in the caller's language, as the dashboard hub pushes them.</summary>
    private static async Task<Results<Ok<DashboardView>, ProblemHttpResult>> Dashboard(Guid id, ClaimsPrincipal user, JobDashboards dashboards,
        IStringLocalizer<DashboardText> dashboardText, IStringLocalizer<JobsText> text, CancellationToken ct) =>
        await dashboards.FiguresAsync(Org(user), id, ct) is { } figures
            ? TypedResults.Ok(DashboardView.From(figures, dashboardText))
            : Problems.Problem(StatusCodes.Status404NotFound, text, "Job not found", "Your organisation has no job with this id.");

    private static async Task<Results<Ok<JobResponse>, NotFound, ValidationProblem, ProblemHttpResult>> Update(
        Guid id, JobRequest request, ClaimsPrincipal user, JobService jobs, CrowdDb db, IStringLocalizer<JobsText> text, CancellationToken ct) =>
        await ToResultAsync(await jobs.EditAsync(Org(user), id, request, null, ct), db, text, ct);

    private static async Task<Results<Ok<JobResponse>, NotFound, ValidationProblem, ProblemHttpResult>> PutPrompts(
        Guid id, HttpRequest request, ClaimsPrincipal user, JobService jobs, CrowdDb db, IStringLocalizer<JobsText> text, CancellationToken ct)
    {
        byte[]? file;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(ct);
            var upload = form.Files.GetFile("file");
            if (upload is null)
            {
                return Problems.Validation([new(PromptParsing.Field, "Attach the prompt file in a form field named \"file\".")], text);
            }
            await using var stream = upload.OpenReadStream();
            file = await ReadLimitedAsync(stream, ct);
        }
        else if (request.ContentType is null || request.ContentType.StartsWith("text/", StringComparison.OrdinalIgnoreCase))
        {
            file = await ReadLimitedAsync(request.Body, ct);
        }
        else
        {
            return Problems.Problem(StatusCodes.Status415UnsupportedMediaType, text, "Unsupported prompt format",
                "Send the prompts as text/plain (one per line) or as multipart/form-data with a file field named \"file\".");
        }

        var (prompts, errors) = file is null
            ? (null, [PromptParsing.TooLarge(null)])
            : PromptParsing.Parse(file);
        if (prompts is null)
        {
            return Problems.Validation(errors, text, "The prompt file needs attention.");
        }
        return await ToResultAsync(await jobs.ReplacePromptsAsync(Org(user), id, prompts, ct), db, text, ct);
    }

    private static async Task<Results<Ok<JobResponse>, NotFound, ValidationProblem, ProblemHttpResult>> Publish(
        Guid id, ClaimsPrincipal user, JobService jobs, CrowdDb db, IStringLocalizer<JobsText> text, CancellationToken ct) =>
        await ToResultAsync(await jobs.PublishAsync(Org(user), id, ct), db, text, ct);

    private static async Task<Results<Ok<JobResponse>, NotFound, ValidationProblem, ProblemHttpResult>> Close(
        Guid id, ClaimsPrincipal user, JobService jobs, CrowdDb db, IStringLocalizer<JobsText> text, CancellationToken ct) =>
        await ToResultAsync(await jobs.CloseAsync(Org(user), id, ct), db, text, ct);

    private static async Task<Results<Ok<JobResponse>, NotFound, ValidationProblem, ProblemHttpResult>> ToResultAsync(JobOutcome outcome, CrowdDb db,
        IStringLocalizer<JobsText> text, CancellationToken ct)
    {
        switch (outcome.Kind)
        {
            case JobOutcomeKind.Ok:
                return TypedResults.Ok(await JobResponse.LoadAsync(db, outcome.Job!, ct));
            case JobOutcomeKind.NotFound:
                return TypedResults.NotFound();
            case JobOutcomeKind.Invalid:
                return Problems.Validation(outcome.Errors!, text);
            case JobOutcomeKind.BelowFloor:
            case JobOutcomeKind.NoFloor:
            case JobOutcomeKind.Unfunded:
            case JobOutcomeKind.NoAssessment:
                var error = outcome.Errors![0];
                var detail = text[error.Message, error.Arguments].Value;
                var extensions = new Dictionary<string, object?>
                {
                    ["errors"] = new Dictionary<string, string[]> { [error.Field] = [detail] },
                };
                if (outcome.Floor is { } floor)
                {
                    extensions["floor"] = floor;
                }
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, detail: detail, extensions: extensions,
                    title: text[outcome.Kind switch
                    {
                        JobOutcomeKind.BelowFloor => "The hourly rate is below the floor",
                        JobOutcomeKind.Unfunded => "The escrow does not cover the budget",
                        JobOutcomeKind.NoAssessment => "No approved impact assessment",
                        _ => "No rate floor for this region",
                    }]);
            case JobOutcomeKind.Closed:
                return Problems.Problem(StatusCodes.Status409Conflict, text, "Job closed", "This job is closed and can no longer be changed or published.");
            default:
                return Problems.Problem(StatusCodes.Status409Conflict, text, "Changed at the same time",
                    "Someone changed this job at the same time. Reload it and try again.");
        }
    }

    private static Guid Org(ClaimsPrincipal user) =>
        user.OrganisationIdOrNull() ?? throw new InvalidOperationException("The requester policy guarantees an organisation.");

    /// <summary>Reads at most the upload limit; null when the body is larger, without buffering the rest.</summary>
    internal static async Task<byte[]?> ReadLimitedAsync(Stream body, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81_920];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > PromptRules.MaxUploadBytes)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}

/// <summary>Texts of the jobs feature. Translations in JobsText.zh-Hans.resx.</summary>
public sealed class JobsText;
