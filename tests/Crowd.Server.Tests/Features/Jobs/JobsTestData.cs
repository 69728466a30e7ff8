using System.Net.Http.Json;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Database;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crowd.Server.Tests.Features.Jobs;

public static class JobsTestData
{
    /// <summary>
    /// A valid Beijing job paying 30.00 CNY an hour, above the 27.70 CNY floor, for 40 target hours: a budget of
    /// 1,200.00 CNY of pay plus the 10 % platform fee, 1,320.00 CNY.
    /// </summary>
    public static JobRequest ValidJob(string title = "Read Mandarin news sentences", string language = "zh-CN", long rateMinor = 3000) => new(
        Title: title, Description: "Read each sentence once, clearly, in a quiet room.", Language: language,
        HourlyRate: new Money(rateMinor, "CNY"), Region: "CN-BJ", EstimatedSecondsPerClip: 20,
        BuyerName: "Acme Speech AI Ltd", PurposeSpeechRecognition: true, RetentionDays: 365, TargetHours: 40);

    public static async Task<JobResponse> CreateJobAsync(this HttpClient client, JobRequest? request = null)
    {
        var response = await client.PostAsJsonAsync("/api/jobs", request ?? ValidJob());
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JobResponse>())!;
    }

    public static async Task PutPromptsAsync(this HttpClient client, Guid jobId, string prompts)
    {
        var response = await client.PutAsync($"/api/jobs/{jobId}/prompts", new StringContent(prompts, System.Text.Encoding.UTF8, "text/plain"));
        response.EnsureSuccessStatusCode();
    }

    /// <summary>
    /// A created, funded and published job, as a requester, the admin recording their bank transfer and the admin approving
    /// its impact assessment leave it.
    /// </summary>
    public static async Task<JobResponse> PublishedJobAsync(this HttpClient client, CrowdApp app, JobRequest? request = null)
    {
        var job = await client.CreateJobAsync(request);
        await client.PutPromptsAsync(job.Id, "今天天气很好。\n我们明天去公园。\n");
        await app.WithDbAsync(db => FundAsync(db, job.Id));
        await app.ApprovedAssessmentAsync(client, job.Id);
        var published = await client.PostAsync($"/api/jobs/{job.Id}/publish", null);
        published.EnsureSuccessStatusCode();
        return (await published.Content.ReadFromJsonAsync<JobResponse>())!;
    }

    /// <summary>Records the bank transfer that brings the job's escrow up to its unspent budget; returns the amount.</summary>
    public static async Task<Money> FundAsync(CrowdDb db, Guid jobId, long shortBy = 0)
    {
        var status = (await JobFunding.StatusAsync(db, jobId))!;
        var missing = new Money(status.Remaining.Minor - status.Escrow.Minor - shortBy, status.Escrow.Currency);
        if (missing.Minor > 0)
        {
            var escrow = new EscrowService(db, TimeProvider.System, NullLogger<EscrowService>.Instance);
            var admin = Guid.CreateVersion7();
            var funded = await escrow.RecordBankTransferAsync(jobId, missing, "BANK-" + Guid.NewGuid().ToString("N")[..12], admin);
            funded.Outcome.ShouldBe(FundingOutcome.Recorded);
        }
        return missing;
    }
}
