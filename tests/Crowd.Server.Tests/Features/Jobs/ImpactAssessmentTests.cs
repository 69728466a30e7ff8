using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Jobs.Assessments;
using Crowd.Server.Features.Processing;
using Crowd.Server.Features.Retention;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Features.Retention;
using Crowd.Server.Tests.Features.Withdrawal;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crowd.Server.Tests.Features.Jobs;

public sealed class ImpactAssessmentTests(RetentionApp app) : IClassFixture<RetentionApp>
{
    private async Task<(Requester Requester, JobResponse Job)> FundedDraftAsync(JobRequest? request = null)
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync(request);
        await requester.Client.PutPromptsAsync(job.Id, "一句话。");
        await app.WithDbAsync(db => JobsTestData.FundAsync(db, job.Id));
        return (requester, job);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Problem)> PublishAsync(HttpClient client, Guid jobId, string? language = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/jobs/{jobId}/publish");
        if (language is not null)
        {
            request.Headers.AcceptLanguage.ParseAdd(language);
        }
        using var response = await client.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.Clone());
    }

    private static async Task<AssessmentResponse> SubmitAsync(HttpClient client, Guid jobId, AssessmentAnswers answers)
    {
        var response = await client.PostAsJsonAsync($"/api/jobs/{jobId}/assessment", answers);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<AssessmentResponse>())!;
    }

    private async Task<HttpClient> AdminAsync() => await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);

    [Fact]
    public async Task PublishingIsRefusedUntilAnAdminApprovesTheAssessmentAndEachRefusalNamesWhatIsMissing()
    {
        var (requester, job) = await FundedDraftAsync();
        var admin = await AdminAsync();

        var none = await PublishAsync(requester.Client, job.Id);
        none.Status.ShouldBe(HttpStatusCode.BadRequest);
        none.Problem.GetProperty("title").GetString().ShouldBe("No approved impact assessment");
        none.Problem.GetProperty("detail").GetString().ShouldBe(
            "Publishing needs an approved impact assessment. Missing: the assessment itself (purpose and necessity, data collected, risks, safeguards, retention, recipients). Submit it on the job's assessment page.");
        none.Problem.GetProperty("errors").GetProperty("impactAssessment")[0].GetString()!.ShouldStartWith("Publishing needs an approved impact assessment.");
        (await PublishAsync(requester.Client, job.Id, "zh-CN")).Problem.GetProperty("detail").GetString()!.ShouldStartWith("发布需要获批的影响评估。缺少：评估本身");

        var first = await SubmitAsync(requester.Client, job.Id, TestAssessments.Answers());
        (first.Version, first.Status).ShouldBe((1, "waiting"));
        (await PublishAsync(requester.Client, job.Id)).Problem.GetProperty("detail").GetString().ShouldBe(
            "Publishing needs an approved impact assessment. Missing: an admin's approval of version 1, which is waiting for review.");

        var noReason = await admin.PostAsJsonAsync($"/api/admin/assessments/{first.Id}/review", new AssessmentReviewRequest(false, " "));
        noReason.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await noReason.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["reasons"]
            .ShouldBe(["Say what must change, so that the requester can revise the assessment."]);
        var sentBack = await admin.PostAsJsonAsync($"/api/admin/assessments/{first.Id}/review",
            new AssessmentReviewRequest(false, "Name the buyer's subcontractors among the recipients."));
        sentBack.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await PublishAsync(requester.Client, job.Id)).Problem.GetProperty("detail").GetString().ShouldBe(
            "Publishing needs an approved impact assessment. Missing: a revision of version 1, which was sent back: Name the buyer's subcontractors among the recipients.");
        (await requester.Client.GetFromJsonAsync<JobResponse>($"/api/jobs/{job.Id}"))!.Status.ShouldBe("draft");

        var second = await SubmitAsync(requester.Client, job.Id, TestAssessments.Answers() with { Recipients = "Acme Speech AI Ltd and its cloud host." });
        second.Version.ShouldBe(2);
        var approved = await admin.PostAsJsonAsync($"/api/admin/assessments/{second.Id}/review", new AssessmentReviewRequest(true, null));
        (await approved.Content.ReadFromJsonAsync<AssessmentResponse>())!.Status.ShouldBe("approved");
        (await admin.PostAsJsonAsync($"/api/admin/assessments/{second.Id}/review", new AssessmentReviewRequest(false, "Too late.")))
            .StatusCode.ShouldBe(HttpStatusCode.Conflict, "a decision stands; a change is a new version");

        var published = await PublishAsync(requester.Client, job.Id);

        published.Status.ShouldBe(HttpStatusCode.OK);
        (await app.WithDbAsync(db => db.JobVersions.SingleAsync(v => v.JobId == job.Id))).ImpactAssessmentId.ShouldBe(second.Id,
            "the version of the terms records the assessment it went live under");
        var history = (await requester.Client.GetFromJsonAsync<AssessmentResponse[]>($"/api/jobs/{job.Id}/assessment"))!;
        history.Select(a => (a.Version, a.Status)).ShouldBe([(2, "approved"), (1, "sent-back")]);
        history[1].ReviewReasons.ShouldBe("Name the buyer's subcontractors among the recipients.");
        var audit = await app.WithDbAsync(db => db.AuditLog.Where(e => e.SubjectType == "impact_assessment" && (e.SubjectId == first.Id.ToString() || e.SubjectId == second.Id.ToString()))
            .Select(e => e.Action).ToListAsync());
        audit.ShouldBe(["impact_assessment.submitted", "impact_assessment.sent_back", "impact_assessment.submitted", "impact_assessment.approved"], ignoreOrder: true);
    }

    [Fact]
    public async Task AVoiceCloningJobNeedsItsDeepSynthesisRisksAddressedAndAnApprovalForThatPurpose()
    {
        var (requester, job) = await FundedDraftAsync(JobsTestData.ValidJob() with { PurposeVoiceCloning = false });

        // Approved while the job asked only for speech recognition; then voice cloning is added before publishing.
        await app.ApprovedAssessmentAsync(requester.Client, job.Id);
        (await requester.Client.PutAsJsonAsync($"/api/jobs/{job.Id}", new JobRequest(PurposeVoiceCloning: true))).EnsureSuccessStatusCode();
        (await PublishAsync(requester.Client, job.Id)).Problem.GetProperty("detail").GetString().ShouldBe(
            "Publishing needs an approved impact assessment. Missing: an assessment of this job's current purposes; version 1 was approved for others. Submit a new version.");

        var withoutDeepSynthesis = await requester.Client.PostAsJsonAsync($"/api/jobs/{job.Id}/assessment", TestAssessments.Answers(voiceCloning: false));
        withoutDeepSynthesis.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = (await withoutDeepSynthesis.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        problem.Errors.Keys.ShouldBe(["riskDeepSynthesis"]);
        problem.Errors["riskDeepSynthesis"][0].ShouldContain("deep-synthesis risks");

        var covered = await app.ApprovedAssessmentAsync(requester.Client, job.Id, TestAssessments.Answers(voiceCloning: true));
        covered.PurposeVoiceCloning.ShouldBeTrue();
        (await PublishAsync(requester.Client, job.Id)).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task EditingThePurposesOfAPublishedJobPublishesNoNewVersionWithoutAnAssessmentOfThem()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.PublishedJobAsync(app);

        var refused = await requester.Client.PutAsJsonAsync($"/api/jobs/{job.Id}", new JobRequest(PurposeVoiceCloning: true));

        refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await refused.Content.ReadFromJsonAsync<ProblemDetails>())!.Title.ShouldBe("No approved impact assessment");
        (await app.WithDbAsync(db => db.JobVersions.CountAsync(v => v.JobId == job.Id))).ShouldBe(1);
    }

    [Fact]
    public async Task TheAssessmentIsKeptAndShownThreeYearsAfterTheJobClosesLongPastTheRetentionOfItsAudio()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob() with { RetentionDays = 30 });
        var testJob = new TestJob(job.Id, 1, await app.WithDbAsync(db => db.Prompts.Where(p => p.JobId == job.Id).OrderBy(p => p.Ordinal).Select(p => p.Id).ToArrayAsync()));
        var contributor = await RecordingTestData.ContributorAsync(app, testJob);
        var clip = await WithdrawalTestData.StoredClipAsync(app, testJob, contributor.Id, prompt: 0, recordedAt: app.Time.GetUtcNow());
        var closedAt = app.Time.GetUtcNow();
        (await requester.Client.PostAsync($"/api/jobs/{job.Id}/close", null)).StatusCode.ShouldBe(HttpStatusCode.OK);

        app.Time.Advance(TimeSpan.FromDays(31));
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RetentionService>().RunAsync(default);
        }
        (await WithdrawalTestData.ReloadAsync(app, clip.Id)).AudioDestroyedAt.ShouldNotBeNull("the audio's retention has ended");
        app.Time.Advance(TimeSpan.FromDays(3 * 365 - 40));

        var report = (await (await AdminAsync()).GetFromJsonAsync<ProcessingReport>("/api/admin/processing.json"))!;

        var record = report.Jobs.Single(j => j.JobId == job.Id).ImpactAssessment.ShouldNotBeNull();
        record.Status.ShouldBe("approved");
        record.Answers.Safeguards.ShouldBe(TestAssessments.Answers().Safeguards);
        record.KeepUntil!.Value.ShouldBe(closedAt.AddYears(3), TimeSpan.FromSeconds(1));
        var deleting = await Should.ThrowAsync<PostgresException>(() => app.WithDbAsync(db =>
            db.Set<ImpactAssessment>().Where(a => a.JobId == job.Id).ExecuteDeleteAsync()));
        deleting.MessageText.ShouldContain("kept until three years after its job closes");
        var html = await (await AdminAsync()).GetStringAsync("/Admin/Processing");
        html.ShouldContain(TestAssessments.Answers().Safeguards!);
    }

    [Fact]
    public async Task TheRequesterFillsInTheFormOnItsPageAndAnAdminApprovesItOnTheirs()
    {
        var (requester, job) = await FundedDraftAsync();
        var form = await requester.Client.GetStringAsync($"/Jobs/{job.Id}/Assessment");
        form.ShouldContain("data-testid=\"assessment-form\"");
        var zh = new HttpRequestMessage(HttpMethod.Get, $"/Jobs/{job.Id}/Assessment");
        zh.Headers.AcceptLanguage.ParseAdd("zh-CN");
        (await (await requester.Client.SendAsync(zh)).Content.ReadAsStringAsync()).ShouldContain("目的与必要性");

        var answers = TestAssessments.Answers();
        (string, string?)[] Fields(string? recipients) =>
        [
            ("Form.PurposeAndNecessity", answers.PurposeAndNecessity), ("Form.DataCollected", answers.DataCollected),
            ("Form.RiskVoiceCloning", answers.RiskVoiceCloning), ("Form.RiskReidentification", answers.RiskReidentification),
            ("Form.RiskMinors", answers.RiskMinors), ("Form.Safeguards", answers.Safeguards), ("Form.Retention", answers.Retention),
            ("Form.Recipients", recipients),
        ];
        var posted = await requester.Client.SubmitAsync($"/Jobs/{job.Id}/Assessment", Fields(""));
        (await posted.Content.ReadAsStringAsync()).ShouldContain("Name who receives the recordings.");
        (await app.WithDbAsync(db => db.Set<ImpactAssessment>().CountAsync(a => a.JobId == job.Id))).ShouldBe(0, "nothing is written for a form with a missing answer");

        posted = await requester.Client.SubmitAsync($"/Jobs/{job.Id}/Assessment", Fields(answers.Recipients));
        posted.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var assessment = await app.WithDbAsync(db => db.Set<ImpactAssessment>().SingleAsync(a => a.JobId == job.Id));

        var admin = await AdminAsync();
        (await admin.GetStringAsync("/Admin/Assessments")).ShouldContain($"data-id=\"{assessment.Id}\"");
        var reviewed = await admin.SubmitAsync("/Admin/Assessments", ("id", assessment.Id.ToString()), ("approve", "true"), ("reasons", ""));
        reviewed.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await PublishAsync(requester.Client, job.Id)).Status.ShouldBe(HttpStatusCode.OK);
    }
}
