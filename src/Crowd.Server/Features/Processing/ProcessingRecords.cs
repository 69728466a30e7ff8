using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Jobs.Assessments;
using Crowd.Server.Infrastructure.Database;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Processing;

public sealed record DataCategory(string Name, bool SpecialCategory);

public sealed record ProcessingCounts(int ConsentsGiven, int ConsentsWithdrawn, int ClipsRecorded, int AudioDestroyed);

/// <summary>One job's entry in the records of processing (GDPR art. 30(1)).</summary>
public sealed record JobProcessingRecord(
    Guid JobId, string Title, string Status, string Controller, string Buyer, IReadOnlyList<string> Purposes,
    IReadOnlyList<string> DataSubjects, IReadOnlyList<DataCategory> DataCategories, IReadOnlyList<string> Recipients,
    int RetentionDays, string Retention, IReadOnlyList<string> SecurityMeasures, ProcessingCounts Counts,
    AssessmentRecord? ImpactAssessment = null);

/// <summary>The job's impact assessment (PIPL art. 55, GDPR art. 35): the newest version, its answers and review, and how long it is kept.</summary>
public sealed record AssessmentRecord(
    Guid Id, int Version, string Status, AssessmentAnswers Answers, DateTimeOffset SubmittedAt, DateTimeOffset? ReviewedAt, string? ReviewReasons,
    DateTimeOffset? KeepUntil);

public sealed record ProcessingReport(DateTimeOffset GeneratedAt, string Processor, IReadOnlyList<JobProcessingRecord> Jobs);

/// <summary>
/// The records of processing, built from what the platform actually holds: per published job its controller, purposes,
/// categories of data and of people, recipients (the buyer and every organisation that exported its clips), retention,
/// the security measures in force, and counts of consents given and withdrawn and of audio destroyed. Texts are English
/// (they are also the translation keys of the HTML pages).
/// </summary>
public static class ProcessingRecords
{
    public const string Processor = "Crowd (voice data platform), processor on behalf of each requester organisation";

    public static readonly IReadOnlyList<string> DataSubjects = ["Contributors (freelance voice workers)"];

    public static readonly IReadOnlyList<DataCategory> DataCategories =
    [
        new("Voice recordings (biometric data)", SpecialCategory: true),
        new("Prompts read aloud", SpecialCategory: false),
        new("Audio quality metrics and browser microphone settings", SpecialCategory: false),
        new("Account data: name, email address, date of birth", SpecialCategory: false),
        new("Payout details and earnings", SpecialCategory: false),
        new("Consent records (terms version and hash, time given and withdrawn)", SpecialCategory: false),
    ];

    public static readonly IReadOnlyList<string> SecurityMeasures =
    [
        "AES-256-GCM encryption of every clip under its own key, wrapped by a master key",
        "Crypto-shredding: destroying a clip's key makes every copy of its audio unreadable",
        "Hash-chained, append-only audit log of consents, audio reads, exports, deletions and key destruction",
        "TLS for every connection",
        "Role-based access control (contributor, requester, supplier, admin) and per-organisation API keys",
        "Rate limits on sign-in and on the API",
    ];

    public const string SpeechRecognition = "Training and evaluating speech recognition";
    public const string VoiceCloning = "Voice cloning / speech synthesis (separate opt-in per contributor)";

    public static async Task<ProcessingReport> BuildAsync(CrowdDb db, DateTimeOffset now, CancellationToken ct)
    {
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.Status != JobStatus.Draft)
            .Join(db.Organisations, j => j.OrganisationId, o => o.Id, (j, o) => new
            {
                j.Id, j.Terms.Title, j.Status, Controller = o.Name, j.Terms.BuyerName, j.Terms.PurposeSpeechRecognition, j.Terms.PurposeVoiceCloning, j.Terms.RetentionDays, j.CreatedAt,
            })
            .OrderBy(j => j.CreatedAt).ToListAsync(ct);
        var consents = await db.Consents.AsNoTracking().GroupBy(c => c.JobId)
            .Select(g => new { JobId = g.Key, Given = g.Count(), Withdrawn = g.Count(c => c.WithdrawnAt != null) })
            .ToDictionaryAsync(x => x.JobId, ct);
        var clips = await db.Clips.AsNoTracking().GroupBy(c => c.JobId)
            .Select(g => new { JobId = g.Key, Recorded = g.Count(), Destroyed = g.Count(c => c.AudioDestroyedAt != null) })
            .ToDictionaryAsync(x => x.JobId, ct);
        var recipients = (await db.ClipRecipients.AsNoTracking()
                .Join(db.Clips, r => r.ClipId, c => c.Id, (r, c) => new { c.JobId, r.OrganisationId })
                .Join(db.Organisations, x => x.OrganisationId, o => o.Id, (x, o) => new { x.JobId, o.Name })
                .Distinct().ToListAsync(ct))
            .ToLookup(x => x.JobId, x => x.Name);
        var jobIds = jobs.Select(j => j.Id).ToArray();
        var assessments = (await db.Set<ImpactAssessment>().AsNoTracking().Where(a => jobIds.Contains(a.JobId)).ToListAsync(ct))
            .GroupBy(a => a.JobId).ToDictionary(g => g.Key, g => g.MaxBy(a => a.Version)!);

        return new ProcessingReport(now, Processor, jobs.Select(j =>
        {
            var purposes = new List<string>();
            if (j.PurposeSpeechRecognition)
            {
                purposes.Add(SpeechRecognition);
            }
            if (j.PurposeVoiceCloning)
            {
                purposes.Add(VoiceCloning);
            }
            var given = consents.GetValueOrDefault(j.Id);
            var recorded = clips.GetValueOrDefault(j.Id);
            return new JobProcessingRecord(j.Id, j.Title, j.Status.ToString(), j.Controller, j.BuyerName, purposes, DataSubjects, DataCategories,
                [j.BuyerName, .. recipients[j.Id].Where(n => n != j.Controller && n != j.BuyerName).Order(StringComparer.Ordinal)],
                j.RetentionDays,
                $"Audio destroyed {j.RetentionDays} days after recording, or 3 years after the contributor's last interaction if earlier, or at once on withdrawal",
                SecurityMeasures,
                new ProcessingCounts(given?.Given ?? 0, given?.Withdrawn ?? 0, recorded?.Recorded ?? 0, recorded?.Destroyed ?? 0),
                assessments.TryGetValue(j.Id, out var a)
                    ? new AssessmentRecord(a.Id, a.Version, AssessmentResponse.StatusName(a.Status), a.Answers, a.SubmittedAt, a.ReviewedAt, a.ReviewReasons, a.KeepUntil)
                    : null);
        }).ToList());
    }
}
