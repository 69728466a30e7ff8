using Crowd.Server.Features.Recording;
using System.Buffers.Text;
using System.Globalization;
using System.Net.Mail;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crowd.Server.Features.Audit;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Notifications;
using Crowd.Server.Infrastructure;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Mail;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Infrastructure.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Crowd.Server.Features.Recording.Consent;

/// <summary>What the contributor saw and signed: the version and text hash they read, the name they typed, their choices.</summary>
public sealed record ConsentRequest(int? Version, string? TextSha256, string? Signature, bool VoiceCloning = false, string? GuardianEmail = null);

public enum ConsentOutcomeKind
{
    Given,
    GuardianRequested,
    JobNotFound,
    /// <summary>The request names a version that is not the job's current one.</summary>
    NotCurrentVersion,
    /// <summary>The text hash is not that of the current text in any language (e.g. the supplier fee changed meanwhile).</summary>
    TextChanged,
    Invalid,
    /// <summary>A minor or child asked to consent alone.</summary>
    NeedsGuardian,
    /// <summary>An adult asked for a guardian's consent.</summary>
    NotAMinor,
}

public sealed record ConsentOutcome(ConsentOutcomeKind Kind, int CurrentVersion = 0, AgeGroup Age = AgeGroup.Adult,
    IReadOnlyList<FieldError>? Errors = null, Guid? Id = null);

/// <summary>The consent screen of one job for one contributor.</summary>
public sealed record ConsentScreen(Job Job, ConsentTerms Terms, RenderedConsent Text, AgeGroup Age, bool Consented, GuardianConsent? Pending);

public enum GuardianLinkState
{
    Open,
    Unknown,
    AlreadyUsed,
    Expired,
    /// <summary>The job's terms changed (or it closed) since the request: the minor must ask again under the new terms.</summary>
    TermsChanged,
}

public sealed record GuardianScreen(GuardianLinkState State, GuardianConsent? Request = null, string? MinorName = null, string? JobTitle = null,
    StoredConsentText? Text = null);

public sealed record GuardianOutcome(GuardianLinkState State, IReadOnlyList<FieldError>? Errors = null, Guid? ConsentId = null);

/// <summary>
/// Gives consent to the current version of a job's terms: the exact text shown is stored once by its hash and the
/// consent row refers to it, with the typed signature and the voice-cloning choice. Minors go through a guardian,
/// whose confirmation of a single-use mailed link is the only thing that makes their consent live.
/// </summary>
public sealed class ConsentService(
    CrowdDb db, AuditLog audit, Outbox outbox, Notifications.Notifications notifications, TimeProvider clock, IOptions<CrowdOptions> options,
    IStringLocalizer<ConsentText> text)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public async Task<ConsentScreen?> ScreenAsync(Guid jobId, Guid contributorId, string culture, CancellationToken ct)
    {
        var loaded = await TermsAsync(jobId, ct);
        if (loaded is null)
        {
            return null;
        }
        var (job, terms) = loaded.Value;
        var user = await db.Users.AsNoTracking().Where(u => u.Id == contributorId).Select(u => new { u.DateOfBirth }).SingleAsync(ct);
        var age = ConsentRules.GroupOn(user.DateOfBirth, Today());
        var consented = await LiveConsentAsync(jobId, job.Version, contributorId, age, ct);
        var now = clock.GetUtcNow();
        var pending = await db.GuardianConsents.AsNoTracking()
            .Where(g => g.JobId == jobId && g.JobVersion == job.Version && g.ContributorId == contributorId && g.ConfirmedAt == null && g.ExpiresAt > now)
            .OrderByDescending(g => g.RequestedAt).FirstOrDefaultAsync(ct);
        return new ConsentScreen(job, terms, ConsentDocument.Render(terms, culture), age, consented, pending);
    }

    /// <summary>An adult's own consent. Refused (and nothing written) for a stale version or text, a wrong signature, or a minor.</summary>
    public async Task<ConsentOutcome> GiveAsync(Guid jobId, Guid contributorId, ConsentRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var checkedRequest = await CheckAsync(jobId, contributorId, request, ct);
        if (checkedRequest.Refusal is { } refused)
        {
            return refused;
        }
        var (job, terms, shown, age) = checkedRequest.Accepted!.Value;
        if (age != AgeGroup.Adult)
        {
            return new ConsentOutcome(ConsentOutcomeKind.NeedsGuardian, job.Version, age);
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (await CurrentVersionLockedAsync(jobId, ct) != job.Version)
        {
            return new ConsentOutcome(ConsentOutcomeKind.NotCurrentVersion, job.Version);
        }
        await StoreTextAsync(shown, ct);
        var id = await InsertConsentAsync(job, terms, shown.Sha256, contributorId, request.VoiceCloning, Signature(request.Signature), null, ct);
        await tx.CommitAsync(ct);
        return new ConsentOutcome(ConsentOutcomeKind.Given, job.Version, age, Id: id);
    }

    /// <summary>
    /// A minor's signed request for their guardian's consent: stored with a single-use link (only its hash is kept)
    /// that goes to the guardian through the outbox. Nothing is live until the guardian confirms.
    /// </summary>
    public async Task<ConsentOutcome> RequestGuardianAsync(Guid jobId, Guid contributorId, ConsentRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var checkedRequest = await CheckAsync(jobId, contributorId, request, ct);
        if (checkedRequest.Refusal is { } refused)
        {
            return refused;
        }
        var (job, _, shown, age) = checkedRequest.Accepted!.Value;
        if (age == AgeGroup.Adult)
        {
            return new ConsentOutcome(ConsentOutcomeKind.NotAMinor, job.Version, age);
        }
        var minor = await db.Users.AsNoTracking().Where(u => u.Id == contributorId).Select(u => new { u.Email, u.DisplayName }).SingleAsync(ct);
        var email = request.GuardianEmail?.Trim() ?? "";
        if (email.Length == 0 || email.Length > 256 || TextRules.Find(email, TextKind.Line) is not null
            || !MailAddress.TryCreate(email, out var parsed) || parsed.Address != email)
        {
            return Invalid(job, age, new FieldError("guardianEmail", "Enter your parent's or guardian's email address, like name@example.com."));
        }
        if (string.Equals(email, minor.Email, StringComparison.OrdinalIgnoreCase))
        {
            return Invalid(job, age, new FieldError("guardianEmail", "Enter your parent's or guardian's email address, not your own."));
        }

        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow();
        var guardian = new GuardianConsent
        {
            Id = Guid.CreateVersion7(),
            JobId = jobId,
            JobVersion = job.Version,
            ContributorId = contributorId,
            TextSha256 = shown.Sha256,
            VoiceCloning = request.VoiceCloning,
            MinorSignature = Signature(request.Signature),
            GuardianEmail = email,
            TokenSha256 = TokenHash(token),
            RequestedAt = now,
            ExpiresAt = now.AddDays(options.Value.Recording.GuardianLinkDays),
        };
        // From configuration, never from the request: a forged Host header must not send a guardian to another site.
        var link = new Uri(options.Value.PublicUrl!, "/Guardian/" + token);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await StoreTextAsync(shown, ct);
        db.GuardianConsents.Add(guardian);
        await db.SaveChangesAsync(ct);
        db.Entry(guardian).State = EntityState.Detached;
        var expires = guardian.ExpiresAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        await outbox.EnqueueAsync(email, text["{0} asks for your consent to record their voice on Crowd", minor.DisplayName],
            string.Join("\n\n",
                text["{0} wants to record their voice for the job \"{1}\" on Crowd. They are under 18, so they need the consent of a parent or guardian.", minor.DisplayName, job.Terms.Title],
                text["Read exactly what they agreed to, and confirm only if you agree too:"] + "\n" + link,
                text["The link works once, until {0} (UTC). If you do nothing, nothing happens: they cannot record for this job.", expires],
                text["If you are not their parent or guardian, ignore this mail."]),
            ct);
        await audit.AppendAsync(new AuditEvent("user", contributorId, "guardian.requested", "guardian_consent", guardian.Id.ToString(),
            Details: JsonSerializer.Serialize(new { jobId, version = job.Version, textSha256 = shown.Sha256 }, s_json)), ct);
        await tx.CommitAsync(ct);
        return new ConsentOutcome(ConsentOutcomeKind.GuardianRequested, job.Version, age, Id: guardian.Id);
    }

    public async Task<GuardianScreen> GuardianScreenAsync(string? token, CancellationToken ct)
    {
        var request = await FindLinkAsync(token, ct);
        var state = await StateOfAsync(request, ct);
        if (state != GuardianLinkState.Open)
        {
            return new GuardianScreen(state);
        }
        var minor = await db.Users.AsNoTracking().Where(u => u.Id == request!.ContributorId).Select(u => u.DisplayName).SingleAsync(ct);
        var title = await db.Jobs.AsNoTracking().Where(j => j.Id == request!.JobId).Select(j => j.Terms.Title).SingleAsync(ct);
        var shown = await db.ConsentTexts.AsNoTracking().SingleAsync(t => t.Sha256 == request!.TextSha256, ct);
        return new GuardianScreen(state, request, minor, title, shown);
    }

    /// <summary>The guardian's confirmation: once per link, before it expires, and only while the job's terms are the ones the minor signed.</summary>
    public async Task<GuardianOutcome> ConfirmGuardianAsync(string? token, string? guardianName, CancellationToken ct)
    {
        var request = await FindLinkAsync(token, ct);
        var state = await StateOfAsync(request, ct);
        if (state != GuardianLinkState.Open)
        {
            return new GuardianOutcome(state);
        }
        var name = Signature(guardianName);
        if (name.Length == 0)
        {
            return new GuardianOutcome(state, [new FieldError("guardianName", "Type your full name to confirm.")]);
        }
        if (name.Length > ConsentRules.MaxSignatureLength)
        {
            return new GuardianOutcome(state, [new FieldError("guardianName", "Keep the name to {0} characters or fewer.", ConsentRules.MaxSignatureLength)]);
        }
        if (TextRules.Check("guardianName", name, TextKind.Line) is { } nameText)
        {
            return new GuardianOutcome(state, [nameText]);
        }
        var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == request!.JobId, ct);
        var terms = (await TermsAsync(job.Id, ct))!.Value.Terms;

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (await CurrentVersionLockedAsync(job.Id, ct) != request!.JobVersion)
        {
            return new GuardianOutcome(GuardianLinkState.TermsChanged);
        }
        var now = clock.GetUtcNow();
        // The single use is decided here: of two confirmations racing, one updates the row and the other finds it used.
        var claimed = await db.GuardianConsents.Where(g => g.Id == request.Id && g.ConfirmedAt == null && g.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(g => g.ConfirmedAt, now).SetProperty(g => g.GuardianName, name), ct);
        if (claimed == 0)
        {
            return new GuardianOutcome(GuardianLinkState.AlreadyUsed);
        }
        await audit.AppendAsync(new AuditEvent("guardian", null, "guardian.confirmed", "guardian_consent", request.Id.ToString(),
            Details: JsonSerializer.Serialize(new { jobId = job.Id, version = job.Version, contributorId = request.ContributorId, textSha256 = request.TextSha256 }, s_json)), ct);
        var id = await InsertConsentAsync(job, terms, request.TextSha256, request.ContributorId, request.VoiceCloning, request.MinorSignature, request.Id, ct);
        await notifications.NotifyAsync(request.ContributorId, NotificationKind.GuardianConfirmed, new NotificationData { JobId = job.Id, JobTitle = job.Terms.Title }, ct);
        await tx.CommitAsync(ct);
        return new GuardianOutcome(GuardianLinkState.Open, ConsentId: id);
    }

    /// <summary>
    /// Whether the contributor has a live consent to this version that counts for their age now: an adult's own, or
    /// one a guardian confirmed. (A birth date corrected to under 18 later makes an unguarded consent stop counting.)
    /// </summary>
    public async Task<bool> LiveConsentAsync(Guid jobId, int version, Guid contributorId, AgeGroup age, CancellationToken ct) =>
        await db.Consents.AnyAsync(c => c.JobId == jobId && c.JobVersion == version && c.ContributorId == contributorId && c.WithdrawnAt == null
            && (age == AgeGroup.Adult || c.GuardianConsentId != null), ct);

    private DateOnly Today() => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    /// <summary>The terms a contributor would consent to now: the job's current published version; null for a draft or closed job.</summary>
    public async Task<(Job Job, ConsentTerms Terms)?> TermsAsync(Guid jobId, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId && j.Status == JobStatus.Published, ct);
        if (job is null)
        {
            return null;
        }
        var termsSha = await db.JobVersions.Where(v => v.JobId == jobId && v.Version == job.Version).Select(v => v.TermsSha256).SingleAsync(ct);
        // The requester's supplier fee on this job, charged for the work of contributors who chose a supplier.
        var fee = await db.Set<JobBudget>().Where(b => b.JobId == jobId).Select(b => b.SupplierFeeBp).SingleOrDefaultAsync(ct);
        var t = job.Terms;
        return (job, new ConsentTerms(job.Id, t.Title, job.Version, termsSha, t.BuyerName, t.PurposeSpeechRecognition, t.PurposeVoiceCloning,
            t.RetentionDays, new Money(t.HourlyRateMinor, t.Currency.Trim()), fee, job.PeerValidation));
    }

    private sealed record Checked(ConsentOutcome? Refusal, (Job Job, ConsentTerms Terms, RenderedConsent Shown, AgeGroup Age)? Accepted = null);

    /// <summary>The checks both ways of consenting share, in the order a person can act on them. Writes nothing.</summary>
    private async Task<Checked> CheckAsync(Guid jobId, Guid contributorId, ConsentRequest request, CancellationToken ct)
    {
        var loaded = await TermsAsync(jobId, ct);
        if (loaded is null)
        {
            return new(new ConsentOutcome(ConsentOutcomeKind.JobNotFound));
        }
        var (job, terms) = loaded.Value;
        if (request.Version != job.Version)
        {
            return new(new ConsentOutcome(ConsentOutcomeKind.NotCurrentVersion, job.Version));
        }
        var shown = ConsentDocument.Cultures.Select(c => ConsentDocument.Render(terms, c))
            .FirstOrDefault(r => string.Equals(r.Sha256, request.TextSha256?.Trim(), StringComparison.OrdinalIgnoreCase));
        if (shown is null)
        {
            return new(new ConsentOutcome(ConsentOutcomeKind.TextChanged, job.Version));
        }
        var user = await db.Users.AsNoTracking().Where(u => u.Id == contributorId).Select(u => new { u.DisplayName, u.DateOfBirth }).SingleAsync(ct);
        var age = ConsentRules.GroupOn(user.DateOfBirth, Today());
        var errors = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(request.Signature))
        {
            errors.Add(new("signature", "Type your full name to sign."));
        }
        else if (TextRules.Check("signature", request.Signature, TextKind.Line) is { } signatureText)
        {
            errors.Add(signatureText);
        }
        else if (!ConsentRules.SignatureMatches(request.Signature, user.DisplayName))
        {
            errors.Add(new("signature", "The name you typed is not the name on your account ({0}). Type it exactly as it is there.", user.DisplayName));
        }
        if (request.VoiceCloning && !job.Terms.PurposeVoiceCloning)
        {
            errors.Add(new("voiceCloning", "This job does not ask to use recordings for voice cloning, so there is nothing to opt in to."));
        }
        return errors.Count > 0 ? new(Invalid(job, age, [.. errors])) : new(null, (job, terms, shown, age));
    }

    private static ConsentOutcome Invalid(Job job, AgeGroup age, params FieldError[] errors) =>
        new(ConsentOutcomeKind.Invalid, job.Version, age, errors);

    private async Task<int> CurrentVersionLockedAsync(Guid jobId, CancellationToken ct) =>
        // FOR SHARE: a publication of new terms waits until this consent is recorded, so it is never recorded against a stale version unnoticed.
        (await db.Database.SqlQuery<int>($"""SELECT version AS "Value" FROM jobs WHERE id = {jobId} AND status = {(int)JobStatus.Published} FOR SHARE""")
            .ToListAsync(ct)).FirstOrDefault(-1);

    private Task<int> StoreTextAsync(RenderedConsent shown, CancellationToken ct) =>
        db.Database.ExecuteSqlAsync($"""
            INSERT INTO consent_texts (sha256, culture, body, created_at) VALUES ({shown.Sha256}, {shown.Culture}, {shown.Body}, {clock.GetUtcNow()})
            ON CONFLICT (sha256) DO NOTHING
            """, ct);

    /// <summary>Adds the live consent row, or keeps the one already live; the audit entry is written for a new row only.</summary>
    private async Task<Guid> InsertConsentAsync(Job job, ConsentTerms terms, string textSha256, Guid contributorId, bool voiceCloning,
        string signature, Guid? guardianConsentId, CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        var inserted = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO consents (id, job_id, job_version, contributor_id, terms_sha256, given_at, voice_cloning, text_sha256, signature, guardian_consent_id)
            VALUES ({id}, {job.Id}, {job.Version}, {contributorId}, {terms.TermsSha256}, {clock.GetUtcNow()}, {voiceCloning}, {textSha256}, {signature}, {guardianConsentId})
            ON CONFLICT (job_id, job_version, contributor_id) WHERE withdrawn_at IS NULL DO NOTHING
            """, ct);
        if (inserted == 0)
        {
            return await db.Consents.Where(c => c.JobId == job.Id && c.JobVersion == job.Version && c.ContributorId == contributorId && c.WithdrawnAt == null)
                .Select(c => c.Id).SingleAsync(ct);
        }
        await audit.AppendAsync(new AuditEvent("user", contributorId, "consent.given", "consent", id.ToString(),
            Details: JsonSerializer.Serialize(new { jobId = job.Id, version = job.Version, textSha256, voiceCloning, guardianConsentId }, s_json)), ct);
        return id;
    }

    private async Task<GuardianConsent?> FindLinkAsync(string? token, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > 100)
        {
            return null;
        }
        var hash = TokenHash(token.Trim());
        return await db.GuardianConsents.AsNoTracking().SingleOrDefaultAsync(g => g.TokenSha256 == hash, ct);
    }

    private async Task<GuardianLinkState> StateOfAsync(GuardianConsent? request, CancellationToken ct)
    {
        if (request is null)
        {
            return GuardianLinkState.Unknown;
        }
        if (request.ConfirmedAt is not null)
        {
            return GuardianLinkState.AlreadyUsed;
        }
        if (request.ExpiresAt <= clock.GetUtcNow())
        {
            return GuardianLinkState.Expired;
        }
        var current = await db.Jobs.AsNoTracking().Where(j => j.Id == request.JobId && j.Status == JobStatus.Published).Select(j => (int?)j.Version).SingleOrDefaultAsync(ct);
        return current == request.JobVersion ? GuardianLinkState.Open : GuardianLinkState.TermsChanged;
    }

    private static string TokenHash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>The signature as stored: what was typed, with its white space trimmed and collapsed.</summary>
    private static string Signature(string? typed)
    {
        var signature = string.Join(' ', (typed ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return signature.Length > ConsentRules.MaxSignatureLength ? signature[..ConsentRules.MaxSignatureLength] : signature;
    }
}
