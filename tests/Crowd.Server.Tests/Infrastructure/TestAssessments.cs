using Crowd.Server.Features.Jobs.Assessments;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Infrastructure;

/// <summary>Impact assessments as a requester writes them and an admin approves them, for tests that publish jobs.</summary>
public static class TestAssessments
{
    public static AssessmentAnswers Answers(bool voiceCloning = false) => new(
        PurposeAndNecessity: "Training a Mandarin speech recogniser for hospital front desks; read speech of many speakers is needed to cover accents.",
        DataCollected: "Recordings of prompted sentences, their quality metrics, and a per-job speaker pseudonym. No names reach the buyer.",
        RiskVoiceCloning: "Recordings could be used to imitate a speaker; the licence forbids it and voice cloning is a separate opt-in.",
        RiskReidentification: "A voice can identify a person; speakers are pseudonymous per job and prompts contain no personal details.",
        RiskMinors: "Under-14s are blocked; 14–17-year-olds need a guardian's confirmed consent.",
        RiskDeepSynthesis: voiceCloning
            ? "A cloned voice could impersonate the speaker in calls; the buyer watermarks synthetic speech and may not synthesise named speakers."
            : null,
        Safeguards: "Per-clip encryption, crypto-shredding on withdrawal, audit log of every read, deletion feed to buyers.",
        Retention: "365 days, or 3 years after the speaker's last activity, whichever is first; then the key is destroyed.",
        Recipients: "Acme Speech AI Ltd, the buyer named on the consent screen.");

    /// <summary>Submits an assessment of the job as it is now through the API and has an admin approve it; returns it.</summary>
    public static async Task<ImpactAssessment> ApprovedAssessmentAsync(this CrowdApp app, HttpClient requester, Guid jobId, AssessmentAnswers? answers = null)
    {
        var voiceCloning = await app.WithDbAsync(db => db.Jobs.Where(j => j.Id == jobId).Select(j => j.Terms.PurposeVoiceCloning).SingleAsync());
        var submitted = await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(requester, $"/api/jobs/{jobId}/assessment",
            answers ?? Answers(voiceCloning));
        submitted.StatusCode.ShouldBe(System.Net.HttpStatusCode.Created, await submitted.Content.ReadAsStringAsync());
        var created = (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<AssessmentResponse>(submitted.Content))!;
        return await app.ApproveAsync(created.Id);
    }

    /// <summary>An admin's approval, straight through the service (the review endpoint has tests of its own).</summary>
    public static async Task<ImpactAssessment> ApproveAsync(this CrowdApp app, Guid assessmentId)
    {
        var admin = await app.CreateUserAsync(Crowd.Server.Features.Accounts.Roles.Admin);
        await using var scope = app.Services.CreateAsyncScope();
        var outcome = await scope.ServiceProvider.GetRequiredService<ImpactAssessments>()
            .ReviewAsync(admin.Id, assessmentId, new AssessmentReviewRequest(true, null), default);
        outcome.Kind.ShouldBe(AssessmentOutcomeKind.Ok);
        return outcome.Assessment!;
    }
}
