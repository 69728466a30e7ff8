using System.Net.Http.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Tests.Infrastructure;

namespace Crowd.Server.Tests.Features.Jobs;

public static class JobsTestData
{
    /// <summary>A valid Beijing job paying 30.00 CNY an hour, above the 27.70 CNY floor.</summary>
    public static JobRequest ValidJob(string title = "Read Mandarin news sentences", string language = "zh-CN", long rateMinor = 3000) => new(
        Title: title, Description: "Read each sentence once, clearly, in a quiet room.", Language: language,
        HourlyRate: new Money(rateMinor, "CNY"), Region: "CN-BJ", EstimatedSecondsPerClip: 20,
        BuyerName: "Acme Speech AI Ltd", PurposeSpeechRecognition: true, RetentionDays: 365);

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

    public static async Task<JobResponse> PublishedJobAsync(this HttpClient client, JobRequest? request = null)
    {
        var job = await client.CreateJobAsync(request);
        await client.PutPromptsAsync(job.Id, "今天天气很好。\n我们明天去公园。\n");
        var published = await client.PostAsync($"/api/jobs/{job.Id}/publish", null);
        published.EnsureSuccessStatusCode();
        return (await published.Content.ReadFromJsonAsync<JobResponse>())!;
    }
}
