using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crowd.Server.Features.Audit;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Features.Recording.Clips;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Exports.Datasets;

/// <summary>Who asks for an export: a person of the organisation, possibly through one of its API keys.</summary>
public sealed record ExportCaller(Guid OrganisationId, Guid UserId, Guid? ApiKeyId)
{
    public AuditEvent Audit(string action, string subjectType, string subjectId, string reason, object details) =>
        new(ApiKeyId is null ? "user" : "apikey", ApiKeyId ?? UserId, action, subjectType, subjectId, reason,
            JsonSerializer.Serialize(details, DatasetManifest.Json));
}

public enum DatasetOutcomeKind
{
    Created,
    JobNotFound,
    UseNotConsented,
    NothingToExport,
}

public sealed record DatasetOutcome(DatasetOutcomeKind Kind, DatasetExport? Export = null);

public enum ClipReadKind
{
    Ok,
    NotFound,
    Gone,
}

public sealed record ClipRead(ClipReadKind Kind, byte[]? Wav = null, string? Sha256 = null);

/// <summary>One row of the exportable-clips query: the facts the manifest needs, nothing else.</summary>
public sealed record ExportableClipRow(
    Guid Id, Guid ContributorId, Guid ConsentId, int ConsentJobVersion, bool ConsentVoiceCloning, bool VersionSpeechRecognition,
    bool VersionVoiceCloning, int DurationMs, int SampleRate, long SizeBytes, string Sha256, string Metrics, string PromptText, string? PromptRef);

/// <summary>Builds dataset exports (manifest, signature, recipients, audit) and serves their clips.</summary>
/// <summary>What reading one clip of an export needs, and whether it may be read at all.</summary>
public sealed record ExportClipRow(string StorageKey, byte[]? WrappedKey, string Sha256, bool Gone);

public sealed class DatasetExporter(CrowdDb db, ExportKeys keys, DatasetSigningKeys signingKeys, AuditLog audit, ClipVault vault, TimeProvider clock)
{

    /// <param name="publicBase">The platform's address, for the dataset's URL in croissant.json.</param>
    public async Task<DatasetOutcome> CreateAsync(ExportCaller caller, Guid jobId, DatasetUse use, CancellationToken ct, Uri? publicBase = null)
    {
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId && j.OrganisationId == caller.OrganisationId, ct);
        if (job is null)
        {
            return new(DatasetOutcomeKind.JobNotFound);
        }
        // Whether any version of the job asked consent for the use; each clip's own version and opt-in are checked by the query.
        var versions = await db.JobVersions.AsNoTracking().Where(v => v.JobId == jobId)
            .Select(v => new { v.PurposeSpeechRecognition, v.PurposeVoiceCloning }).ToListAsync(ct);
        if (!versions.Any(v => DatasetRules.Covers(use, v.PurposeSpeechRecognition, v.PurposeVoiceCloning, consentVoiceCloning: true)))
        {
            return new(DatasetOutcomeKind.UseNotConsented);
        }
        var organisation = await db.Organisations.AsNoTracking().Where(o => o.Id == caller.OrganisationId).Select(o => o.Name).SingleAsync(ct);

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var rows = await ExportableClipsAsync(db, jobId, use, ct);
        if (rows.Count == 0)
        {
            return new(DatasetOutcomeKind.NothingToExport);
        }

        var now = clock.GetUtcNow();
        var exportId = Guid.CreateVersion7();
        var pseudonyms = keys.ForJob(jobId);
        var purposes = new Dictionary<(bool, bool, bool), string[]>();
        var clips = rows.Select(r =>
        {
            var key = (r.VersionSpeechRecognition, r.VersionVoiceCloning, r.ConsentVoiceCloning);
            if (!purposes.TryGetValue(key, out var consented))
            {
                purposes[key] = consented = DatasetRules.Purposes(key.Item1, key.Item2, key.Item3);
            }
            return new ManifestClip(r.Id, DatasetManifest.FileOf(r.Id), r.PromptText, r.PromptRef, r.DurationMs, r.SampleRate,
                r.SizeBytes, pseudonyms.Of(r.ContributorId), r.ConsentId, r.ConsentJobVersion, consented, r.Sha256, ParseMetrics(r.Metrics));
        }).ToList();
        var header = new ManifestHeader(DatasetManifest.Format, exportId, jobId, job.Terms.Title, job.Terms.Language,
            new ManifestBuyer(caller.OrganisationId, organisation, job.Terms.BuyerName), DatasetRules.Name(use), DatasetRules.Licence, now,
            clips.Count, clips.Sum(c => c.SizeBytes));
        var jsonl = DatasetManifest.Jsonl(header, clips);
        var tsv = DatasetManifest.Tsv(header, clips);
        var floor = await db.RateFloors.AsNoTracking().SingleOrDefaultAsync(f => f.Region == job.Terms.Region && f.Currency == job.Terms.Currency, ct);
        var facts = new DatasetFacts(header, clips, job.Terms.Description,
            new Uri(publicBase ?? new Uri("https://crowd.invalid/"), $"/api/datasets/{exportId:D}"),
            new Money(job.Terms.HourlyRateMinor, job.Terms.Currency.Trim()), floor is null ? null : PayFloor.Of(floor), job.Terms.Region, job.Terms.MinSnrDb,
            job.Terms.MaxClippingRatio, job.Terms.MinSpeechRatio, job.Terms.ClipMinMs, job.Terms.ClipMaxMs, job.Terms.RetentionDays, job.PeerValidation,
            DatasetSignature.Sha256(jsonl), DatasetSignature.Sha256(tsv));
        var croissant = DatasetDocuments.Croissant(facts);
        var datasheet = DatasetDocuments.Datasheet(facts);
        var (keyId, privateKey) = await signingKeys.CurrentAsync(ct);
        var signature = DatasetSignature.Sign(exportId,
            [
                new SignedFile(DatasetManifest.JsonlFile, facts.ManifestJsonlSha256), new SignedFile(DatasetManifest.TsvFile, facts.ManifestTsvSha256),
                new SignedFile(DatasetDocuments.CroissantFile, DatasetSignature.Sha256(croissant)),
                new SignedFile(DatasetDocuments.DatasheetFile, DatasetSignature.Sha256(datasheet)),
            ], keyId, privateKey, clock.GetUtcNow());
        CryptographicOperations.ZeroMemory(privateKey);
        var export = new DatasetExport
        {
            Id = exportId,
            JobId = jobId,
            OrganisationId = caller.OrganisationId,
            RequestedByUserId = caller.UserId,
            ApiKeyId = caller.ApiKeyId,
            DatasetUse = header.Use,
            ClipCount = header.ClipCount,
            TotalBytes = header.TotalBytes,
            ManifestJsonl = jsonl,
            ManifestTsv = tsv,
            Signature = DatasetSignature.Text(signature),
            CroissantJson = croissant,
            DatasheetMd = datasheet,
            CreatedAt = now,
        };
        db.Add(export);
        await db.SaveChangesAsync(ct);
        var ids = rows.Select(r => r.Id).ToArray();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO clip_recipients (clip_id, organisation_id, export_id, exported_at)
            SELECT id, {caller.OrganisationId}, {exportId}, {now} FROM unnest({ids}) AS id
            """, ct);

        var details = new { jobId, use = header.Use, clipCount = ids.Length, clipIdsSha256 = ClipIdsHash(ids), manifestSha256 = facts.ManifestJsonlSha256, signingKey = keyId };
        await audit.AppendAsync(caller.Audit("dataset.exported", "dataset_export", exportId.ToString(), "dataset export", details), ct);
        // One entry for the export run rather than one per clip: it names every clip (by the hash of their ids, the ids
        // themselves are in clip_recipients) whose audio the organisation may now read, who and why. Downloads are reads
        // under this entry; they are refused for any clip not in it.
        await audit.AppendAsync(caller.Audit("audio.read", "dataset_export", exportId.ToString(), "dataset export", details), ct);
        await tx.CommitAsync(ct);
        db.Entry(export).State = EntityState.Detached;
        return new(DatasetOutcomeKind.Created, export);
    }

    /// <summary>
    /// The exportable clips of a job for a use: <see cref="DatasetRules.IsExportable"/> as one query, with the purposes of the
    /// job version each clip's consent was given to. The rows stay locked FOR
    /// SHARE until the export commits, so a withdrawal that lands meanwhile waits and then finds this export among the recipients.
    /// </summary>
    public static Task<List<ExportableClipRow>> ExportableClipsAsync(CrowdDb db, Guid jobId, DatasetUse use, CancellationToken ct)
    {
        var voiceCloning = use == DatasetUse.VoiceCloning;
        return db.Database.SqlQuery<ExportableClipRow>($"""
            SELECT c.id AS "Id", c.contributor_id AS "ContributorId", c.consent_id AS "ConsentId", cs.job_version AS "ConsentJobVersion",
                   cs.voice_cloning AS "ConsentVoiceCloning", v.purpose_speech_recognition AS "VersionSpeechRecognition",
                   v.purpose_voice_cloning AS "VersionVoiceCloning", c.duration_ms AS "DurationMs", c.sample_rate AS "SampleRate",
                   c.size_bytes AS "SizeBytes", c.sha256 AS "Sha256", c.metrics::text AS "Metrics", p.text AS "PromptText",
                   p.external_ref AS "PromptRef"
            FROM clips c
            JOIN consents cs ON cs.id = c.consent_id
            JOIN job_versions v ON v.job_id = cs.job_id AND v.version = cs.job_version
            JOIN prompts p ON p.id = c.prompt_id
            WHERE c.job_id = {jobId}
              AND c.review_status = {(int)ClipReview.Accepted}
              AND c.withdrawn_at IS NULL
              AND c.audio_destroyed_at IS NULL
              AND c.wrapped_key IS NOT NULL
              AND cs.withdrawn_at IS NULL
              AND CASE WHEN {voiceCloning} THEN v.purpose_voice_cloning AND cs.voice_cloning ELSE v.purpose_speech_recognition END
            ORDER BY p.ordinal, c.id
            FOR SHARE OF c, cs
            """).ToListAsync(ct);
    }

    public Task<DatasetExport?> FindAsync(Guid organisationId, Guid exportId, CancellationToken ct) =>
        db.Set<DatasetExport>().AsNoTracking().SingleOrDefaultAsync(e => e.Id == exportId && e.OrganisationId == organisationId, ct);

    /// <summary>A clip of an export, decrypted: only to the organisation it went to, and only while its consent is live.</summary>
    public async Task<ClipRead> ReadClipAsync(Guid organisationId, Guid exportId, Guid clipId, CancellationToken ct)
    {
        // Only what the read needs: a dataset download asks for thousands of clips, one query each.
        var found = await (
                from r in db.ClipRecipients
                join c in db.Clips on r.ClipId equals c.Id
                join cs in db.Consents on c.ConsentId equals cs.Id
                where r.ExportId == exportId && r.ClipId == clipId && r.OrganisationId == organisationId
                select new ExportClipRow(c.StorageKey, c.WrappedKey, c.Sha256,
                    c.WithdrawnAt != null || c.AudioDestroyedAt != null || cs.WithdrawnAt != null))
            .AsNoTracking().FirstOrDefaultAsync(ct);
        if (found is null)
        {
            return new(ClipReadKind.NotFound);
        }
        if (found.Gone)
        {
            return new(ClipReadKind.Gone);
        }
        var clip = new Clip { Id = clipId, StorageKey = found.StorageKey, WrappedKey = found.WrappedKey, Sha256 = found.Sha256 };
        var wav = await vault.ReadAsync(clip, ct);
        return wav is null ? new(ClipReadKind.Gone) : new(ClipReadKind.Ok, wav, clip.Sha256);
    }

    public static string ClipIdsHash(IEnumerable<Guid> ids) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(string.Join('\n', ids.Select(id => id.ToString("D"))))));

    private static JsonElement ParseMetrics(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
