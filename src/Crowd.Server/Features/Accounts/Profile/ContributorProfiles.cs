using Crowd.Server.Features.Accounts.Speech;
using Crowd.Server.Features.Recording.Consent;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Web;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Features.Accounts.Profile;

/// <summary>A region a contributor can say they live in: one per rate-floor region, whatever its currencies.</summary>
public sealed record RegionChoice(string Region, string Name);

/// <summary>What the board needs to know about whoever looks at it: their region and every language they speak, native first.</summary>
public sealed record Speaker(string? Region, string[] Languages)
{
    public static readonly Speaker Unknown = new(null, []);
}

/// <summary>
/// A contributor's profile: where they live, the languages they speak, their native language and accent (kept by
/// <see cref="SpeakerProfiles"/>, the one place that writes them) and optional demographics. Saved whole or not at all.
/// </summary>
public sealed class ContributorProfiles(CrowdDb db, TimeProvider clock, SpeakerProfiles speech)
{
    public Task<ContributorProfile?> FindAsync(Guid contributorId, CancellationToken ct) =>
        db.Set<ContributorProfile>().AsNoTracking().SingleOrDefaultAsync(p => p.ContributorId == contributorId, ct);

    public Task<SpeakerProfile?> SpeechAsync(Guid contributorId, CancellationToken ct) => speech.FindAsync(contributorId, ct);

    public async Task<IReadOnlyList<RegionChoice>> RegionsAsync(CancellationToken ct) =>
        (await db.RateFloors.AsNoTracking().Select(f => new { f.Region, f.RegionName }).ToListAsync(ct))
            .DistinctBy(f => f.Region).OrderBy(f => f.Region, StringComparer.Ordinal).Select(f => new RegionChoice(f.Region, f.RegionName)).ToList();

    /// <summary>The age band of the date of birth on the account, today.</summary>
    public async Task<AgeBand> AgeBandAsync(Guid contributorId, CancellationToken ct)
    {
        var born = await db.Users.Where(u => u.Id == contributorId).Select(u => u.DateOfBirth).SingleAsync(ct);
        return ProfileRules.BandOf(ConsentRules.AgeOn(born, DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime)));
    }

    public async Task<Speaker> SpeakerAsync(Guid contributorId, CancellationToken ct)
    {
        var profile = await FindAsync(contributorId, ct);
        var native = await SpeechAsync(contributorId, ct);
        string[] languages = native is null ? profile?.Languages ?? [] : [native.Language, .. profile?.Languages ?? []];
        return new Speaker(profile?.Region, languages);
    }

    /// <summary>
    /// Saves every part of the form, or returns every problem with it and saves nothing. A blank native language and
    /// accent remove the speaker profile ("not stated").
    /// </summary>
    public async Task<List<FieldError>> SaveAsync(Guid contributorId, ProfileForm form, CancellationToken ct)
    {
        var regions = (await RegionsAsync(ct)).Select(r => r.Region).ToHashSet(StringComparer.Ordinal);
        var errors = ProfileRules.Validate(form, regions);
        var statesSpeech = !string.IsNullOrWhiteSpace(form.Language) || !string.IsNullOrWhiteSpace(form.Accent);
        if (statesSpeech)
        {
            errors.AddRange(SpeakerProfileRules.Prepare(form.Language, form.Accent).Errors);
        }
        var (languages, languageErrors) = ProfileRules.Languages(form.Languages, form.Language);
        errors.AddRange(languageErrors);
        if (errors.Count > 0)
        {
            return errors;
        }

        var (region, gender, ageBand) = (Blank(form.Region), Blank(form.Gender), Blank(form.AgeBand));
        var now = clock.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO contributor_profiles (contributor_id, region, languages, gender, age_band, updated_at)
            VALUES ({contributorId}, {region}, {languages}, {gender}, {ageBand}, {now})
            ON CONFLICT (contributor_id) DO UPDATE SET region = excluded.region, languages = excluded.languages,
                gender = excluded.gender, age_band = excluded.age_band, updated_at = excluded.updated_at
            """, ct);
        if (!statesSpeech)
        {
            await speech.RemoveAsync(contributorId, ct);
        }
        else if (await speech.SaveAsync(contributorId, form.Language, form.Accent, ct) is { Count: > 0 } speechErrors)
        {
            return speechErrors; // checked above already; the transaction rolls back all the same
        }
        await transaction.CommitAsync(ct);
        return errors;
    }

    private static string? Blank(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
