using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Tests.Infrastructure;

namespace Crowd.Benchmarks;

/// <summary>How many prompts each upload stored, and how long the upload and the replacement of them all took.</summary>
public sealed record PromptsBenchmarkResult(int Stored, int Replaced, TimeSpan Upload, TimeSpan Replace);

/// <summary>
/// A requester signed in on a real server process uploads <c>count</c> prompts to a draft job as one plain-text
/// <c>PUT /api/jobs/{id}/prompts</c>, then replaces every one of them with a second upload.
/// </summary>
public static class PromptsBenchmark
{
    public static async Task<PromptsBenchmarkResult> RunAsync(string connectionString, int count, TextWriter output)
    {
        var (server, startTime) = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["ConnectionStrings__Crowd"] = connectionString,
            ["Crowd__Scheduler__Enabled"] = "false",
            ["Logging__LogLevel__Default"] = "Warning",
        });
        await using var _ = server;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"server    up in {startTime.TotalSeconds:F1} s (not counted)"));
        using var requester = RecordingBenchmark.Client(server.Address, new CookieContainer());
        await RecordingBenchmark.SignUpAndInAsync(requester, new SignUpRequest($"requester-{Guid.NewGuid():N}@bench.test", RecordingBenchmark.Password,
            "Bench Requester", new DateOnly(1980, 1, 1), Roles.Requester, "Bench Speech AI"));
        var job = (await (await requester.PostAsJsonAsync("/api/jobs", new JobRequest(Title: "Prompts benchmark", Description: "Read each sentence aloud.",
                Language: "zh-CN", HourlyRate: new Money(3000, "CNY"), Region: "CN-BJ", EstimatedSecondsPerClip: 10, BuyerName: "Bench Speech AI",
                PurposeSpeechRecognition: true, RetentionDays: 30, TargetHours: 10)))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JobResponse>())!;
        // A first small upload, so that the figures are of storing prompts and not of compiling the endpoint's code.
        await PutAsync(Lines(10, "热身"));

        var body = Lines(count, "句子");
        var (stored, upload) = await PutAsync(body);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"upload    {stored:N0} prompts ({Encoding.UTF8.GetByteCount(body) / 1024:N0} KiB) stored in {upload.TotalSeconds,6:F2} s: {stored / upload.TotalSeconds,9:N0} prompts/s"));
        var (replaced, replace) = await PutAsync(Lines(count, "短句"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"replace   {replaced:N0} prompts replaced in {replace.TotalSeconds,6:F2} s: {replaced / replace.TotalSeconds,9:N0} prompts/s"));
        return new PromptsBenchmarkResult(stored, replaced, upload, replace);

        async Task<(int Stored, TimeSpan Elapsed)> PutAsync(string prompts)
        {
            var clock = Stopwatch.StartNew();
            using var response = await requester.PutAsync($"/api/jobs/{job.Id}/prompts", new StringContent(prompts, Encoding.UTF8, "text/plain"));
            var stored = (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JobResponse>())!.PromptCount;
            return (stored, clock.Elapsed);
        }
    }

    /// <summary>A TSV of <paramref name="count"/> prompts: an external reference, a tab, a sentence.</summary>
    private static string Lines(int count, string word)
    {
        var text = new StringBuilder(count * 24);
        for (var i = 1; i <= count; i++)
        {
            text.Append('s').Append(i).Append("\t第 ").Append(i).Append(" 个").Append(word).Append("。\n");
        }
        return text.ToString();
    }
}
