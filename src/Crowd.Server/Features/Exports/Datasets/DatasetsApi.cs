using System.Security.Claims;
using System.Text;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Web;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Crowd.Server.Features.Exports.Datasets;

public sealed record CreateDatasetRequest(string? Use);

public sealed record DatasetExportResponse(
    Guid Id, Guid JobId, string Use, int ClipCount, long TotalBytes, DateTimeOffset CreatedAt, string ManifestJsonl, string ManifestTsv,
    string Signature, string ClipTemplate, string Croissant, string Datasheet, string Keys)
{
    public static DatasetExportResponse From(DatasetExport e) => new(e.Id, e.JobId, e.DatasetUse, e.ClipCount, e.TotalBytes, e.CreatedAt,
        $"/api/datasets/{e.Id}/manifest.jsonl", $"/api/datasets/{e.Id}/manifest.tsv", $"/api/datasets/{e.Id}/signature",
        $"/api/datasets/{e.Id}/clips/{{clipId}}.wav", $"/api/datasets/{e.Id}/croissant.json", $"/api/datasets/{e.Id}/DATASHEET.md",
        DatasetSignature.WellKnownPath);
}

public sealed record VerifyManifestRequest(string? ManifestJsonl, string? ManifestTsv, string? Signature, string? Croissant = null, string? Datasheet = null);

public sealed record VerifyManifestResponse(bool Valid, Guid ExportId, ManifestBuyer Buyer, string Use, int ClipCount);

public static class DatasetsApi
{

    public static RouteGroupBuilder MapDatasets(this IEndpointRouteBuilder app)
    {
        // No prefix: the published keys live at a well-known path outside /api.
        var group = app.MapGroup("").WithTags("Datasets").RequireRateLimiting(WebSetup.ApiLimit);
        // Public on purpose: anyone holding a dataset (a buyer, an auditor, a regulator) pins these keys to check it offline.
        group.MapGet(DatasetSignature.WellKnownPath, async (DatasetSigningKeys keys, CancellationToken ct) => TypedResults.Ok(await keys.PublishedAsync(ct)))
            .AllowAnonymous();
        group.MapPost("/api/admin/dataset-keys/rotate", async (ClaimsPrincipal user, DatasetSigningKeys keys, CancellationToken ct) =>
                TypedResults.Ok(await keys.RotateAsync(user.UserId(), ct)))
            .RequireAuthorization(Roles.Admin).DisableAntiforgery();

        var jobs = group.MapGroup("/api/jobs/{jobId:guid}/datasets").RequireAuthorization(Roles.Requester).DisableAntiforgery();
        jobs.MapPost("/", Create);

        var datasets = group.MapGroup("/api/datasets").RequireAuthorization(Roles.Requester).DisableAntiforgery();
        datasets.MapGet("/{exportId:guid}", Get);
        datasets.MapGet("/{exportId:guid}/manifest.jsonl", (Guid exportId, ClaimsPrincipal user, DatasetExporter exporter, IStringLocalizer<ExportsText> text, CancellationToken ct) =>
            FileAsync(exportId, user, exporter, text, e => e.ManifestJsonl, "application/x-ndjson", ct));
        datasets.MapGet("/{exportId:guid}/manifest.tsv", (Guid exportId, ClaimsPrincipal user, DatasetExporter exporter, IStringLocalizer<ExportsText> text, CancellationToken ct) =>
            FileAsync(exportId, user, exporter, text, e => e.ManifestTsv, "text/tab-separated-values", ct));
        datasets.MapGet("/{exportId:guid}/signature", (Guid exportId, ClaimsPrincipal user, DatasetExporter exporter, IStringLocalizer<ExportsText> text, CancellationToken ct) =>
            FileAsync(exportId, user, exporter, text, e => e.Signature, "application/json", ct));
        datasets.MapGet("/{exportId:guid}/croissant.json", (Guid exportId, ClaimsPrincipal user, DatasetExporter exporter, IStringLocalizer<ExportsText> text, CancellationToken ct) =>
            FileAsync(exportId, user, exporter, text, e => e.CroissantJson, "application/ld+json", ct));
        datasets.MapGet("/{exportId:guid}/DATASHEET.md", (Guid exportId, ClaimsPrincipal user, DatasetExporter exporter, IStringLocalizer<ExportsText> text, CancellationToken ct) =>
            FileAsync(exportId, user, exporter, text, e => e.DatasheetMd, "text/markdown", ct));
        datasets.MapGet("/{exportId:guid}/clips/{clipId:guid}.wav", Clip);
        datasets.MapGet("/deletions", Deletions);
        // A manifest lists every clip of an export; tens of thousands of lines are normal.
        datasets.MapPost("/verify", Verify).WithBodyLimit(64 * 1024 * 1024);
        return group;
    }

    private static async Task<Results<Created<DatasetExportResponse>, ValidationProblem, ProblemHttpResult>> Create(
        Guid jobId, CreateDatasetRequest? request, ClaimsPrincipal user, DatasetExporter exporter, IStringLocalizer<ExportsText> text,
        IOptions<CrowdOptions> options, CancellationToken ct)
    {
        var publicBase = options.Value.PublicUrl!;
        if (!DatasetRules.TryParseUse(request?.Use, out var use))
        {
            return Problems.Validation([new FieldError("use", "Declare the use as \"speech-recognition\" or \"voice-cloning\".")], text);
        }
        var outcome = await exporter.CreateAsync(Caller(user), jobId, use, ct, publicBase);
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

    private static async Task<Results<Ok<VerifyManifestResponse>, ValidationProblem, ProblemHttpResult>> Verify(
        VerifyManifestRequest request, ExportKeys keys, DatasetSigningKeys signingKeys, IStringLocalizer<ExportsText> text, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(request.ManifestJsonl) || string.IsNullOrEmpty(request.Signature))
        {
            return Problems.Validation([new FieldError("manifestJsonl", "Send the text of manifest.jsonl and of signature.json.")], text);
        }
        var check = request.Signature.Contains(DatasetSignature.Format, StringComparison.Ordinal)
            ? Check(DatasetSignature.Verify(request.Signature, await signingKeys.PublishedAsync(ct), name => name switch
            {
                DatasetManifest.JsonlFile => Encoding.UTF8.GetBytes(request.ManifestJsonl),
                DatasetManifest.TsvFile => request.ManifestTsv is null ? null : Encoding.UTF8.GetBytes(request.ManifestTsv),
                DatasetDocuments.CroissantFile => request.Croissant is null ? null : Encoding.UTF8.GetBytes(request.Croissant),
                DatasetDocuments.DatasheetFile => request.Datasheet is null ? null : Encoding.UTF8.GetBytes(request.Datasheet),
                _ => null,
            }))
            // Exports made before Ed25519 carry an HMAC only the platform can check.
            : DatasetManifest.Verify(request.ManifestJsonl, request.ManifestTsv, request.Signature, keys.SigningKey);
        ManifestHeader? header = null;
        if (check == ManifestCheck.Valid)
        {
            header = System.Text.Json.JsonSerializer.Deserialize<ManifestHeader>(
                request.ManifestJsonl.AsSpan(0, Math.Max(0, request.ManifestJsonl.IndexOf('\n', StringComparison.Ordinal))), DatasetManifest.Json);
            var signedExport = System.Text.Json.JsonSerializer.Deserialize<DatasetSignatureFile>(request.Signature, DatasetSignature.Json)?.ExportId;
            check = header is null ? ManifestCheck.Unreadable
                : signedExport is { } id && id != Guid.Empty && id != header.ExportId ? ManifestCheck.JsonlChanged
                : ManifestCheck.Valid;
        }
        if (check != ManifestCheck.Valid)
        {
            return Problems.Problem(StatusCodes.Status400BadRequest, text, "Manifest not authentic", check switch
            {
                ManifestCheck.JsonlChanged => "manifest.jsonl was changed after the platform signed it: do not trust its clips, buyer or purposes.",
                ManifestCheck.TsvChanged => "manifest.tsv was changed after the platform signed it: do not trust its clips, buyer or purposes.",
                ManifestCheck.CroissantChanged => "croissant.json was changed after the platform signed it: do not trust its description of the dataset.",
                ManifestCheck.DatasheetChanged => "DATASHEET.md was changed after the platform signed it: do not trust its description of the dataset.",
                ManifestCheck.SignatureChanged => "signature.json was not made by this platform, or was changed: the manifest cannot be trusted.",
                _ => "These files are not a dataset manifest and signature this platform wrote.",
            });
        }
        return TypedResults.Ok(new VerifyManifestResponse(true, header!.ExportId, header.Buyer, header.Use, header.ClipCount));
    }

    private static ManifestCheck Check(SignatureVerdict verdict) => verdict.Problem switch
    {
        SignatureProblem.None => ManifestCheck.Valid,
        SignatureProblem.Unreadable => ManifestCheck.Unreadable,
        SignatureProblem.FileChanged => verdict.File switch
        {
            DatasetManifest.JsonlFile => ManifestCheck.JsonlChanged,
            DatasetManifest.TsvFile => ManifestCheck.TsvChanged,
            DatasetDocuments.CroissantFile => ManifestCheck.CroissantChanged,
            _ => ManifestCheck.DatasheetChanged,
        },
        _ => ManifestCheck.SignatureChanged,
    };

    private static async Task<Results<Ok<SignedFeed>, ValidationProblem>> Deletions(
        string? since, ClaimsPrincipal user, DeletionFeed feed, IStringLocalizer<ExportsText> text, CancellationToken ct)
    {
        long after = 0;
        if (!string.IsNullOrEmpty(since) && (!long.TryParse(since, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out after)))
        {
            return Problems.Validation([new FieldError("since", "Give since as a whole number: the value of next on the last page you processed, or 0 for the whole feed.")], text);
        }
        return TypedResults.Ok(await feed.PageAsync(Caller(user).OrganisationId, after, ct));
    }

    private static ProblemHttpResult JobNotFound(IStringLocalizer<ExportsText> text) =>
        Problems.Problem(StatusCodes.Status404NotFound, text, "Job not found", "No job with this id belongs to your organisation.");

    private static ProblemHttpResult ExportNotFound(IStringLocalizer<ExportsText> text) =>
        Problems.Problem(StatusCodes.Status404NotFound, text, "Export not found", "No dataset export with this id belongs to your organisation.");

    internal static ExportCaller Caller(ClaimsPrincipal user) => new(
        user.OrganisationIdOrNull() ?? throw new InvalidOperationException("The requester policy guarantees an organisation."),
        user.UserId(),
        Guid.TryParse(user.FindFirstValue(CrowdClaims.ApiKeyId), out var key) ? key : null);
}
