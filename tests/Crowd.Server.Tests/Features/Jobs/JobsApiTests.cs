using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.ApiKeys;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Jobs;

public sealed class JobsApiTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task ARequesterCreatesADraftAddsPromptsAndPublishesIt()
    {
        var requester = await app.RequesterAsync();

        var created = await requester.Client.PostAsJsonAsync("/api/jobs", JobsTestData.ValidJob());
        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        var draft = (await created.Content.ReadFromJsonAsync<JobResponse>())!;
        draft.Status.ShouldBe("draft");
        draft.Version.ShouldBe(0);
        draft.ClipMinMs.ShouldBe(1_000);
        draft.ClipMaxMs.ShouldBe(15_000);
        draft.HourlyRate.ShouldBe(new Money(3000, "CNY"));

        await requester.Client.PutPromptsAsync(draft.Id, "p1\t今天天气很好。\n\n p2\t我们明天去公园。\r\n没有编号的一句。\n");
        (await app.WithDbAsync(db => JobsTestData.FundAsync(db, draft.Id))).ShouldBe(new Money(132_000, "CNY"));
        await app.ApprovedAssessmentAsync(requester.Client, draft.Id);
        var publish = await requester.Client.PostAsync($"/api/jobs/{draft.Id}/publish", null);

        publish.StatusCode.ShouldBe(HttpStatusCode.OK);
        var published = (await publish.Content.ReadFromJsonAsync<JobResponse>())!;
        published.Status.ShouldBe("published");
        published.Version.ShouldBe(1);
        published.PromptCount.ShouldBe(3);
        published.PublishedAt.ShouldNotBeNull();
        var (prompts, version) = await app.WithDbAsync(async db => (
            await db.Prompts.Where(p => p.JobId == draft.Id).OrderBy(p => p.Ordinal).ToListAsync(),
            await db.JobVersions.SingleAsync(v => v.JobId == draft.Id)));
        prompts.Select(p => (p.ExternalRef, p.Text)).ShouldBe([("p1", "今天天气很好。"), ("p2", "我们明天去公园。"), (null, "没有编号的一句。")]);
        using var terms = JsonDocument.Parse(version.TermsJson);
        terms.RootElement.GetProperty("buyer").GetString().ShouldBe("Acme Speech AI Ltd");
        terms.RootElement.GetProperty("hourlyRate").GetProperty("minor").GetInt64().ShouldBe(3000);
        terms.RootElement.GetProperty("promptCount").GetInt32().ShouldBe(3);
        terms.RootElement.GetProperty("purposes").GetProperty("voiceCloning").GetBoolean().ShouldBeFalse();
        version.TermsSha256.ShouldBe(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(version.TermsJson))), "the stored terms are the exact bytes their hash covers");
    }

    [Fact]
    public async Task PublishingBelowTheFloorIsRefusedWithTheFloorNamed()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync(JobsTestData.ValidJob(rateMinor: 2000));
        await requester.Client.PutPromptsAsync(job.Id, "一句话。");

        var response = await requester.Client.PostAsync($"/api/jobs/{job.Id}/publish", null);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        problem.RootElement.GetProperty("detail").GetString().ShouldBe(
            "The hourly rate 20.00 CNY is below the floor for Beijing, mainland China (CN-BJ): 27.70 CNY. Raise the rate to at least 27.70 CNY.");
        problem.RootElement.GetProperty("floor").GetProperty("minor").GetInt64().ShouldBe(2770);
        problem.RootElement.GetProperty("floor").GetProperty("currency").GetString().ShouldBe("CNY");
        (await requester.Client.GetFromJsonAsync<JobResponse>($"/api/jobs/{job.Id}"))!.Status.ShouldBe("draft");
        (await app.WithDbAsync(db => db.JobVersions.CountAsync(v => v.JobId == job.Id))).ShouldBe(0);
    }

    [Fact]
    public async Task TheFloorRefusalComesInChineseWhenAsked()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync(JobsTestData.ValidJob(rateMinor: 2000));
        await requester.Client.PutPromptsAsync(job.Id, "一句话。");

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/jobs/{job.Id}/publish");
        request.Headers.AcceptLanguage.ParseAdd("zh-CN");
        var problem = await (await requester.Client.SendAsync(request)).Content.ReadFromJsonAsync<ProblemDetails>();

        problem!.Detail.ShouldBe("时薪 20.00 CNY 低于北京（中国大陆）（CN-BJ）的最低标准 27.70 CNY。请把时薪提高到至少 27.70 CNY。");
    }

    [Fact]
    public async Task PublishingNeedsPrompts()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();

        var response = await requester.Client.PostAsync($"/api/jobs/{job.Id}/publish", null);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys.ShouldBe(["prompts"]);
    }

    [Fact]
    public async Task AContributorCannotCreateJobs()
    {
        var contributor = await app.CreateUserAsync(Roles.Contributor);
        var client = await app.SignedInClientAsync(contributor.Email!);

        var response = await client.PostAsJsonAsync("/api/jobs", JobsTestData.ValidJob());

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task AnonymousCallersAreAskedToSignIn()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/api/jobs", JobsTestData.ValidJob());

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ASecondOrganisationGets404OnYourDraftAndCannotSeeItInLists()
    {
        var mine = await app.RequesterAsync("First Org");
        var theirs = await app.RequesterAsync("Second Org");
        var draft = await mine.Client.CreateJobAsync(JobsTestData.ValidJob(title: "Secret draft " + Guid.NewGuid()));

        (await theirs.Client.GetAsync($"/api/jobs/{draft.Id}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await theirs.Client.PutAsJsonAsync($"/api/jobs/{draft.Id}", new JobRequest(Title: "Taken over"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await theirs.Client.PostAsync($"/api/jobs/{draft.Id}/publish", null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await theirs.Client.PostAsync($"/api/jobs/{draft.Id}/close", null)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await theirs.Client.GetFromJsonAsync<JobResponse[]>("/api/jobs"))!.ShouldNotContain(j => j.Id == draft.Id);
        (await mine.Client.GetFromJsonAsync<JobResponse[]>("/api/jobs"))!.ShouldContain(j => j.Id == draft.Id);
        (await mine.Client.GetFromJsonAsync<JobResponse>($"/api/jobs/{draft.Id}"))!.Title.ShouldBe(draft.Title);
    }

    public static TheoryData<string, string> BadJobs => new()
    {
        { """{"title":""}""", "title" },
        { $$"""{"title":"{{new string('t', 201)}}"}""", "title" },
        { $$"""{"description":"{{new string('d', 10_001)}}"}""", "description" },
        { """{"language":"not a language"}""", "language" },
        { """{"takesPerPrompt":0}""", "takesPerPrompt" },
        { """{"clipMinMs":5000,"clipMaxMs":2000}""", "clipMaxMs" },
        { """{"clipMinMs":0}""", "clipMinMs" },
        { """{"clipMaxMs":61000}""", "clipMaxMs" },
        { """{"minSnrDb":-1}""", "minSnrDb" },
        { """{"maxClippingRatio":1.5}""", "maxClippingRatio" },
        { """{"minSpeechRatio":-0.1}""", "minSpeechRatio" },
        { """{"hourlyRate":{"minor":0,"currency":"CNY"}}""", "hourlyRate" },
        { """{"hourlyRate":{"minor":-100,"currency":"CNY"}}""", "hourlyRate" },
        { """{"hourlyRate":{"minor":3000,"currency":"XYZ"}}""", "currency" },
        { """{"region":"beijing!"}""", "region" },
        { """{"estimatedSecondsPerClip":0}""", "estimatedSecondsPerClip" },
        { """{"buyerName":""}""", "buyerName" },
        { """{"purposeSpeechRecognition":false,"purposeVoiceCloning":false}""", "purposes" },
        { """{"retentionDays":1096}""", "retentionDays" },
        { $$"""{"environmentNotes":"{{new string('e', 2001)}}"}""", "environmentNotes" },
    };

    [Theory]
    [MemberData(nameof(BadJobs))]
    public async Task EachBadFieldIsRefusedWithProblemDetailsNamingItAndNothingIsWritten(string overrides, string field)
    {
        var requester = await app.RequesterAsync();
        var body = JsonSerializer.SerializeToNode(JobsTestData.ValidJob(), JsonSerializerOptions.Web)!.AsObject();
        foreach (var (key, value) in JsonDocument.Parse(overrides).RootElement.EnumerateObject().Select(p => (p.Name, p.Value)))
        {
            body[key] = System.Text.Json.Nodes.JsonNode.Parse(value.GetRawText());
        }

        var response = await requester.Client.PostAsync("/api/jobs", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        problem!.Errors.Keys.ShouldBe([field]);
        problem.Errors[field].ShouldAllBe(m => m.Length > 10);
        (await app.WithDbAsync(db => db.Jobs.CountAsync(j => j.OrganisationId == requester.OrganisationId))).ShouldBe(0);
    }

    [Fact]
    public async Task AnEditThatBreaksARuleChangesNothing()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();

        var response = await requester.Client.PutAsJsonAsync($"/api/jobs/{job.Id}", new JobRequest(Title: "New title", ClipMinMs: 9000, ClipMaxMs: 3000));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await requester.Client.GetFromJsonAsync<JobResponse>($"/api/jobs/{job.Id}"))!.Title.ShouldBe(job.Title);
    }

    [Fact]
    public async Task APromptFileThatIsNotUtf8IsRefusedNamingTheLine()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();
        await requester.Client.PutPromptsAsync(job.Id, "原来的句子。");
        var gbk = new byte[] { (byte)'o', (byte)'k', (byte)'\n', 0xC4, 0xE3, 0xBA, 0xC3, (byte)'\n' }; // "你好" in GBK

        var response = await requester.Client.PutAsync($"/api/jobs/{job.Id}/prompts", new ByteArrayContent(gbk) { Headers = { ContentType = new MediaTypeHeaderValue("text/plain") } });

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        problem!.Errors["prompts"].ShouldHaveSingleItem().ShouldContain("line 2");
        problem.Errors["prompts"][0].ShouldContain("UTF-8");
        var prompts = await app.WithDbAsync(db => db.Prompts.Where(p => p.JobId == job.Id).Select(p => p.Text).ToListAsync());
        prompts.ShouldBe(["原来的句子。"]);
    }

    [Fact]
    public async Task APromptLongerThanTheLimitIsRefusedNamingTheLine()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();

        var response = await requester.Client.PutAsync($"/api/jobs/{job.Id}/prompts",
            new StringContent("short\nshort\n" + new string('长', 1001), Encoding.UTF8, "text/plain"));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["prompts"][0].ShouldStartWith("Line 3 is 1001 characters long");
    }

    [Fact]
    public async Task APromptFileLargerThanTheLimitIsRefused()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();

        var response = await requester.Client.PutAsync($"/api/jobs/{job.Id}/prompts",
            new ByteArrayContent(new byte[PromptRules.MaxUploadBytes + 1]) { Headers = { ContentType = new MediaTypeHeaderValue("text/plain") } });

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["prompts"][0].ShouldContain("20 MB");
    }

    [Fact]
    public async Task MoreThan100000PromptsAreRefusedAndNothingIsWritten()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();

        var response = await requester.Client.PutAsync($"/api/jobs/{job.Id}/prompts", new StringContent(Lines(100_001), Encoding.UTF8, "text/plain"));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["prompts"][0].ShouldContain("line 100001");
        (await app.WithDbAsync(db => db.Prompts.CountAsync(p => p.JobId == job.Id))).ShouldBe(0);
    }

    [Fact]
    public async Task HundredThousandPromptsAreAllStoredAndAllReplacedByTheNextUpload()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();
        var body = Lines(100_000);

        var response = await requester.Client.PutAsync($"/api/jobs/{job.Id}/prompts", new StringContent(body, Encoding.UTF8, "text/plain"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadFromJsonAsync<JobResponse>())!.PromptCount.ShouldBe(100_000);
        (await app.WithDbAsync(db => db.Prompts.CountAsync(p => p.JobId == job.Id))).ShouldBe(100_000);
        (await requester.Client.PutAsync($"/api/jobs/{job.Id}/prompts", new StringContent(body.Replace("句子", "短句", StringComparison.Ordinal), Encoding.UTF8, "text/plain")))
            .StatusCode.ShouldBe(HttpStatusCode.OK);
        (await app.WithDbAsync(db => db.Prompts.CountAsync(p => p.JobId == job.Id && p.Text.Contains("短句")))).ShouldBe(100_000);
    }

    [Fact]
    public async Task PromptsCanBeUploadedAsAFileInAForm()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("a1\t第一句。\na2\t第二句。\n")]);
        form.Add(file, "file", "prompts.tsv");

        var response = await requester.Client.PutAsync($"/api/jobs/{job.Id}/prompts", form);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var refs = await app.WithDbAsync(db => db.Prompts.Where(p => p.JobId == job.Id).OrderBy(p => p.Ordinal).Select(p => p.ExternalRef).ToListAsync());
        refs.ShouldBe(["a1", "a2"]);
    }

    [Fact]
    public async Task EditingAPublishedJobsRatePublishesVersion2WithANewTermsHash()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.PublishedJobAsync(app);

        var response = await requester.Client.PutAsJsonAsync($"/api/jobs/{job.Id}", new JobRequest(HourlyRate: new Money(3500, "CNY")));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadFromJsonAsync<JobResponse>())!.Version.ShouldBe(2);
        var versions = await app.WithDbAsync(db => db.JobVersions.Where(v => v.JobId == job.Id).OrderBy(v => v.Version).ToListAsync());
        versions.Select(v => v.Version).ShouldBe([1, 2]);
        versions[1].TermsSha256.ShouldNotBe(versions[0].TermsSha256);
        versions[1].TermsJson.ShouldContain("3500");
    }

    [Fact]
    public async Task AnEditThatChangesNothingKeepsTheVersion()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.PublishedJobAsync(app);

        var response = await requester.Client.PutAsJsonAsync($"/api/jobs/{job.Id}", JobsTestData.ValidJob());

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadFromJsonAsync<JobResponse>())!.Version.ShouldBe(1);
        (await app.WithDbAsync(db => db.JobVersions.CountAsync(v => v.JobId == job.Id))).ShouldBe(1);
    }

    [Fact]
    public async Task LoweringAPublishedJobsRateBelowTheFloorIsRefusedAndTheOldTermsStay()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.PublishedJobAsync(app);

        var response = await requester.Client.PutAsJsonAsync($"/api/jobs/{job.Id}", new JobRequest(HourlyRate: new Money(1000, "CNY")));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail!.ShouldContain("27.70 CNY");
        var current = (await requester.Client.GetFromJsonAsync<JobResponse>($"/api/jobs/{job.Id}"))!;
        (current.Version, current.HourlyRate.Minor).ShouldBe((1, 3000L));
    }

    [Fact]
    public async Task ConcurrentPublicationsPublishOneVersion()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();
        await requester.Client.PutPromptsAsync(job.Id, "一句话。");
        await app.WithDbAsync(db => JobsTestData.FundAsync(db, job.Id));
        await app.ApprovedAssessmentAsync(requester.Client, job.Id);

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => requester.Client.PostAsync($"/api/jobs/{job.Id}/publish", null)));

        responses.ShouldAllBe(r => r.StatusCode == HttpStatusCode.OK || r.StatusCode == HttpStatusCode.Conflict);
        (await app.WithDbAsync(db => db.JobVersions.CountAsync(v => v.JobId == job.Id))).ShouldBe(1);
    }

    [Fact]
    public async Task AClosedJobCannotBeEdited()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.PublishedJobAsync(app);

        (await requester.Client.PostAsync($"/api/jobs/{job.Id}/close", null)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var edit = await requester.Client.PutAsJsonAsync($"/api/jobs/{job.Id}", new JobRequest(Title: "Changed"));

        edit.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        (await requester.Client.GetFromJsonAsync<JobResponse>($"/api/jobs/{job.Id}"))!.Status.ShouldBe("closed");
    }

    [Fact]
    public async Task AnApiKeyCanCreateAJob()
    {
        var requester = await app.RequesterAsync();
        var (key, prefix, hash) = ApiKeyFormat.Create();
        await app.WithDbAsync(async db =>
        {
            db.ApiKeys.Add(new ApiKey
            {
                Id = Guid.CreateVersion7(), OrganisationId = requester.OrganisationId, CreatedByUserId = requester.User.Id,
                Name = "ci", Prefix = prefix, SecretHash = hash, CreatedAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync();
        });
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        var response = await client.PostAsJsonAsync("/api/jobs", JobsTestData.ValidJob());

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var job = (await response.Content.ReadFromJsonAsync<JobResponse>())!;
        (await requester.Client.GetFromJsonAsync<JobResponse[]>("/api/jobs"))!.ShouldContain(j => j.Id == job.Id);
    }

    private static string Lines(int count)
    {
        var text = new StringBuilder(count * 24);
        for (var i = 1; i <= count; i++)
        {
            text.Append('s').Append(i).Append("\t第 ").Append(i).Append(" 个句子。\n");
        }
        return text.ToString();
    }
}
