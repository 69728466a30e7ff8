using System.Security.Claims;
using System.Text;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Localization;
using Microsoft.Net.Http.Headers;

namespace Crowd.Server.Features.Exports.Datasets;

public sealed record CreateDatasetRequest(string? Use);

public sealed record DatasetExportResponse(
    Guid Id, Guid JobId, string Use, int ClipCount, long TotalBytes, DateTimeOffset CreatedAt, string ManifestJsonl, string ManifestTsv,
    string Signature, string ClipTemplate)
{
    public static DatasetExportResponse From(DatasetExport e) => new(e.Id, e.JobId, e.DatasetUse, e.ClipCount, e.TotalBytes, e.CreatedAt,
        $"/api/datasets/{e.Id}/manifest.jsonl", $"/api/datasets/{e.Id}/manifest.tsv", $"/api/datasets/{e.Id}/signature",
        $"/api/datasets/{e.Id}/clips/{{clipId}}.wav");
}

public sealed record VerifyManifestRequest(string? ManifestJsonl, string? ManifestTsv, string? Signature);

public sealed record VerifyManifestResponse(bool Valid, Guid ExportId, ManifestBuyer Buyer, string Use, int ClipCount);

public static class DatasetsApi
{
    public static IEndpointRouteBuilder MapDatasets(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/api/jobs/{jobId:guid}/datasets").WithTags("Datasets")
            .RequireAuthorization(Roles.Requester)
            .RequireRateLimiting(WebSetup.ApiLimit)
            .DisableAntiforgery();
        jobs.MapPost("/", Create);

        var datasets = app.MapGroup("/api/datasets").WithTags("Datasets")
            .RequireAuthorization(Roles.Requester)
            .RequireRateLimiting(WebSetup.ApiLimit)
            .DisableAntiforgery();
        datasets.MapGet("/{exportId:guid}", Get);
        datasets.MapGet("/{exportId:guid}/manifest.jsonl", (Guid exportId, ClaimsPrincipal user, DatasetExporter exporter, IStringLocalizer<ExportsText> text, CancellationToken ct) =>
            FileAsync(exportId, user, exporter, text, e => e.ManifestJsonl, "application/x-ndjson", ct));
        datasets.MapGet("/{exportId:guid}/manifest.tsv", (Guid exportId, ClaimsPrincipal user, DatasetExporter exporter, IStringLocalizer<ExportsText> text, CancellationToken ct) =>
            FileAsync(exportId, user, exporter, text, e => e.ManifestTsv, "text/tab-separated-values", ct));
        datasets.MapGet("/{exportId:guid}/signature", (Guid exportId, ClaimsPrincipal user, DatasetExporter exporter, IStringLocalizer<ExportsText> text, CancellationToken ct) =>
            FileAsync(exportId, user, exporter, text, e => e.Signature, "application/json", ct));
        datasets.MapGet("/{exportId:guid}/clips/{clipId:guid}.wav", Clip);
        // A manifest lists every clip of an export; tens of thousands of lines are normal.
        datasets.MapPost("/verify", Verify).WithBodyLimit(64 * 1024 * 1024);
        return app;
    }

    private static async Task<Results<Created<DatasetExportResponse>, ValidationProblem, ProblemHttpResult>> Create(
        Guid jobId, CreateDatasetRequest? request, ClaimsPrincipal user, DatasetExporter exporter, IStringLocalizer<ExportsText> text, CancellationToken ct)
    {
        if (!DatasetRules.TryParseUse(request?.Use, out var use))
        {
            return Problems.Validation([new FieldError("use", "Declare the use as \"speech-recognition\" or \"voice-cloning\".")], text);
        }
        var outcome = await exporter.CreateAsync(Caller(user), jobId, use, ct);
        return outcome.Kind switch
        {
            DatasetOutcomeKind.Created => TypedResults.Created($"/api/datasets/{outcome.Export!.Id}", DatasetExportResponse.From(outcome.Export)),
            DatasetOutcomeKind.JobNotFound => JobNotFound(text),
            DatasetOutcomeKind.UseNotConsented => Problems.Problem(StatusCodes.Status400BadRequest, text, "Use not consented",
                "This job's contributors were not asked to consent to {0}, so none of its clips can be exported for it.", DatasetRules.Name(use)),
            _ => Problems.Problem(StatusCodes.Status409Conflict, text, "Nothing to export",
                "No clip of this job can be exported for {0} yet: a clip must be accepted, and its speaker's consent must be live and cover that use.",
                DatasetRules.Name(use)),
        };
    }

    private static async Task<Results<Ok<DatasetExportResponse>, ProblemHttpResult>> Get(
        Guid exportId, ClaimsPrincipal user, DatasetExporter exporter, IStringLocalizer<ExportsText> text, CancellationToken ct) =>
        await exporter.FindAsync(Caller(user).OrganisationId, exportId, ct) is { } export
            ? TypedResults.Ok(DatasetExportResponse.From(export))
            : ExportNotFound(text);

    private static async Task<IResult> FileAsync(Guid exportId, ClaimsPrincipal user, DatasetExporter exporter, IStringLocalizer<ExportsText> text,
        Func<DatasetExport, string> content, string contentType, CancellationToken ct) =>
        await exporter.FindAsync(Caller(user).OrganisationId, exportId, ct) is { } export
            ? TypedResults.Bytes(Encoding.UTF8.GetBytes(content(export)), contentType + "; charset=utf-8")
            : ExportNotFound(text);

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> Clip(
        Guid exportId, Guid clipId, ClaimsPrincipal user, DatasetExporter exporter, IStringLocalizer<ExportsText> text, CancellationToken ct)
    {
        var read = await exporter.ReadClipAsync(Caller(user).OrganisationId, exportId, clipId, ct);
        return read.Kind switch
        {
            // Range requests let an interrupted download continue where it stopped.
            ClipReadKind.Ok => TypedResults.File(read.Wav!, "audio/wav", $"{clipId:D}.wav", entityTag: new EntityTagHeaderValue($"\"{read.Sha256}\""),
                enableRangeProcessing: true),
            ClipReadKind.Gone => Problems.Problem(StatusCodes.Status410Gone, text, "Clip withdrawn",
                "The speaker withdrew this clip or their consent after the export. It may no longer be used: delete any copy you hold."),
            _ => Problems.Problem(StatusCodes.Status404NotFound, text, "Clip not found", "This clip is not part of this export of your organisation."),
        };
    }

    private static Results<Ok<VerifyManifestResponse>, ValidationProblem, ProblemHttpResult> Verify(
        VerifyManifestRequest request, ExportKeys keys, IStringLocalizer<ExportsText> text)
    {
        if (string.IsNullOrEmpty(request.ManifestJsonl) || string.IsNullOrEmpty(request.Signature))
        {
            return Problems.Validation([new FieldError("manifestJsonl", "Send the text of manifest.jsonl and of signature.json.")], text);
        }
        var check = DatasetManifest.Verify(request.ManifestJsonl, request.ManifestTsv, request.Signature, keys.SigningKey);
        if (check != ManifestCheck.Valid)
        {
            return Problems.Problem(StatusCodes.Status400BadRequest, text, "Manifest not authentic", check switch
            {
                ManifestCheck.JsonlChanged => "manifest.jsonl was changed after the platform signed it: do not trust its clips, buyer or purposes.",
                ManifestCheck.TsvChanged => "manifest.tsv was changed after the platform signed it: do not trust its clips, buyer or purposes.",
                ManifestCheck.SignatureChanged => "signature.json was not made by this platform, or was changed: the manifest cannot be trusted.",
                _ => "These files are not a dataset manifest and signature this platform wrote.",
            });
        }
        var header = System.Text.Json.JsonSerializer.Deserialize<ManifestHeader>(
            request.ManifestJsonl.AsSpan(0, request.ManifestJsonl.IndexOf('\n', StringComparison.Ordinal)), DatasetManifest.Json)!;
        return TypedResults.Ok(new VerifyManifestResponse(true, header.ExportId, header.Buyer, header.Use, header.ClipCount));
    }

    private static ProblemHttpResult JobNotFound(IStringLocalizer<ExportsText> text) =>
        Problems.Problem(StatusCodes.Status404NotFound, text, "Job not found", "No job with this id belongs to your organisation.");

    private static ProblemHttpResult ExportNotFound(IStringLocalizer<ExportsText> text) =>
        Problems.Problem(StatusCodes.Status404NotFound, text, "Export not found", "No dataset export with this id belongs to your organisation.");

    private static ExportCaller Caller(ClaimsPrincipal user) => new(
        user.OrganisationIdOrNull() ?? throw new InvalidOperationException("The requester policy guarantees an organisation."),
        user.UserId(),
        Guid.TryParse(user.FindFirstValue(CrowdClaims.ApiKeyId), out var key) ? key : null);
}
