using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Jobs;

public sealed class JobFundingTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task TheTargetHoursBecomeTheJobsBudgetWithTheDisclosedPlatformFee()
    {
        var requester = await app.RequesterAsync();

        var job = await requester.Client.CreateJobAsync(JobsTestData.ValidJob() with { TargetHours = 40 });
        var budget = await app.WithDbAsync(db => db.Set<JobBudget>().AsNoTracking().SingleAsync(b => b.JobId == job.Id));
        (budget.TargetHours, budget.PlatformFeeBp, budget.SupplierFeeBp).ShouldBe((40, 1000, 0));
        (await app.WithDbAsync(db => JobFunding.StatusAsync(db, job.Id)))!.Budget.ShouldBe(new Money(132_000, "CNY"));

        job.Budget.ShouldBe(new JobBudgetResponse(40, 1000, 0, new Money(132_000, "CNY")), "the API answers with the budget it set");

        var updated = await requester.Client.PutAsJsonAsync($"/api/jobs/{job.Id}", new JobRequest(TargetHours: 50));
        updated.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await app.WithDbAsync(db => JobFunding.StatusAsync(db, job.Id)))!.Budget.ShouldBe(new Money(165_000, "CNY"));
        (await updated.Content.ReadFromJsonAsync<JobResponse>())!.Budget!.Total.ShouldBe(new Money(165_000, "CNY"));
        (await requester.Client.GetFromJsonAsync<JobResponse[]>("/api/jobs"))!.Single(j => j.Id == job.Id).Budget!.TargetHours.ShouldBe(50);
    }

    [Fact]
    public async Task TargetHoursOutOfRangeAreRefusedLikeTheOtherFieldsAndNothingIsWritten()
    {
        var requester = await app.RequesterAsync();
        var title = "Too many hours " + Guid.NewGuid().ToString("N")[..8];

        foreach (var hours in new[] { 0, 100_001 })
        {
            var response = await requester.Client.PostAsJsonAsync("/api/jobs", JobsTestData.ValidJob(title: title) with { TargetHours = hours });

            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
            problem.Errors["targetHours"].ShouldBe(["Target hours must be between 1 and 100000."]);
        }
        (await app.WithDbAsync(db => db.Jobs.CountAsync(j => j.Terms.Title == title))).ShouldBe(0);
    }

    [Fact]
    public async Task PublishingWithoutTargetHoursAsksForThem()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync(JobsTestData.ValidJob() with { TargetHours = null });
        await requester.Client.PutPromptsAsync(job.Id, "一句话。");

        var response = await requester.Client.PostAsync($"/api/jobs/{job.Id}/publish", null);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["targetHours"]
            .ShouldBe(["Set the target hours of recording before publishing; the budget is worked out from them."]);
    }

    [Fact]
    public async Task PublishingAnUnderfundedJobIsRefusedNamingTheAmountStillNeededAndFundingItThenPublishes()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();
        await requester.Client.PutPromptsAsync(job.Id, "一句话。");
        (await app.WithDbAsync(db => JobsTestData.FundAsync(db, job.Id, shortBy: 112_000))).ShouldBe(new Money(20_000, "CNY"));

        var refused = await requester.Client.PostAsync($"/api/jobs/{job.Id}/publish", null);

        refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        refused.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        using (var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
        {
            const string Detail = "Fund the job's escrow before publishing: 1,120.00 CNY of 1,320.00 CNY is still needed.";
            problem.RootElement.GetProperty("detail").GetString().ShouldBe(Detail);
            problem.RootElement.GetProperty("errors").GetProperty("escrow")[0].GetString().ShouldBe(Detail);
        }
        (await requester.Client.GetFromJsonAsync<JobResponse>($"/api/jobs/{job.Id}"))!.Status.ShouldBe("draft");
        (await app.WithDbAsync(db => db.JobVersions.CountAsync(v => v.JobId == job.Id))).ShouldBe(0);

        (await app.WithDbAsync(db => JobsTestData.FundAsync(db, job.Id))).ShouldBe(new Money(112_000, "CNY"));
        await app.ApprovedAssessmentAsync(requester.Client, job.Id);
        var published = await requester.Client.PostAsync($"/api/jobs/{job.Id}/publish", null);

        published.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await published.Content.ReadFromJsonAsync<JobResponse>())!.Status.ShouldBe("published");
    }

    [Fact]
    public async Task TheFundingRefusalComesInChineseWhenAsked()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();
        await requester.Client.PutPromptsAsync(job.Id, "一句话。");

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/jobs/{job.Id}/publish");
        request.Headers.AcceptLanguage.ParseAdd("zh-CN");
        var problem = await (await requester.Client.SendAsync(request)).Content.ReadFromJsonAsync<ProblemDetails>();

        problem!.Title.ShouldBe("托管资金不足以覆盖预算");
        problem.Detail.ShouldBe("发布前请为任务的托管账户注资：预算 1,320.00 CNY 中仍需 1,320.00 CNY。");
    }

    [Fact]
    public async Task ClosingAJobRefundsItsUnusedEscrowOnce()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.PublishedJobAsync(app);

        (await requester.Client.PostAsync($"/api/jobs/{job.Id}/close", null)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await requester.Client.PostAsync($"/api/jobs/{job.Id}/close", null)).StatusCode.ShouldBe(HttpStatusCode.OK);

        (await app.WithDbAsync(db => LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job.Id, "CNY")))).ShouldBe(new Money(0, "CNY"));
        var refunds = await app.WithDbAsync(db => db.Set<EscrowNotice>().Where(n => n.JobId == job.Id).Select(n => n.Message).ToListAsync());
        refunds.ShouldBe([JobFunding.RefundedMessage]);
    }
}
