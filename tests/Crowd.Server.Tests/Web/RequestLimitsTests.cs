using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Infrastructure.Web;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Web;

/// <summary>Bodies that are ambiguous, malformed or too large get problem details, through the real pipeline.</summary>
public sealed class RequestLimitsTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    private const string JobWithout = """
        "description": "Read each sentence once.", "language": "zh-CN", "hourlyRate": {"minor": 3000, "currency": "CNY"},
        "region": "CN-BJ", "estimatedSecondsPerClip": 20, "buyerName": "Acme Speech AI Ltd", "purposeSpeechRecognition": true,
        "retentionDays": 365, "targetHours": 40
        """;

    [Fact]
    public async Task AKeySentTwiceIsRefusedWithAProblemNamingItAndNothingIsSaved()
    {
        var requester = await app.RequesterAsync();

        var response = await requester.Client.PostAsync("/api/jobs",
            Json($$"""{"title": "Read news", {{JobWithout}}, "title": "Something else"}"""));

        var problem = await response.ShouldBeValidationProblemAsync();
        problem.Errors["title"].ShouldHaveSingleItem().ShouldBe("\"title\" is sent more than once. Send each field once.");
        (await app.WithDbAsync(db => db.Jobs.AnyAsync(j => j.OrganisationId == requester.OrganisationId))).ShouldBeFalse();
    }

    [Fact]
    public async Task AKeySentTwiceInsideAnObjectIsNamedByItsPath()
    {
        var requester = await app.RequesterAsync();
        var body = $$"""{"title": "Read news", {{JobWithout.Replace("\"minor\": 3000", "\"minor\": 3000, \"minor\": 1", StringComparison.Ordinal)}}}""";

        var response = await requester.Client.PostAsync("/api/jobs", Json(body));

        (await response.ShouldBeValidationProblemAsync()).Errors.Keys.ShouldBe(["hourlyRate.minor"]);
    }

    [Fact]
    public async Task AValueOfTheWrongTypeOrBrokenJsonIsA400ProblemThatSaysWhere()
    {
        var requester = await app.RequesterAsync();

        var wrongType = await requester.Client.PostAsync("/api/jobs", Json($$"""{"title": ["Read news"], {{JobWithout}}}"""));
        var broken = await requester.Client.PostAsync("/api/jobs", Json("""{"title": "Read news",}"""));

        (await wrongType.ShouldBeValidationProblemAsync()).Errors["title"].ShouldHaveSingleItem().ShouldStartWith("\"title\" could not be read");
        (await broken.ShouldBeValidationProblemAsync()).Errors["body"].ShouldHaveSingleItem().ShouldStartWith("The request body is not valid JSON (near line 1");
    }

    [Fact]
    public async Task TwoHundredMegabytesWithAContentLengthAre413BeforeAnyIsRead()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();
        var body = new ZeroStream(200L * 1024 * 1024);

        var response = await requester.Client.PutAsync($"/api/jobs/{job.Id}/prompts", Sized(body, "text/plain"));

        await TooLargeAsync(response, "21 MB");
        body.Taken.ShouldBeLessThan(body.Length / 2, "the server answers without reading the body");
    }

    [Fact]
    public async Task AnAnonymousChunkedBodyIsStoppedAtTheSmallLimitWhileItIsRead()
    {
        var body = new ZeroStream(20L * 1024 * 1024);

        var response = await app.AnonymousClient().PostAsync("/api/payouts/stripe/webhook", Chunked(body, "application/json"));

        await TooLargeAsync(response, RequestLimits.Size(RequestLimits.AnonymousBodyBytes));
        body.Taken.ShouldBeLessThan(2L * 1024 * 1024, "reading stops at the limit, not at the end of the body");
    }

    [Fact]
    public async Task AChunkedJsonBodyOverTheDefaultLimitIs413ForASignedInCallerToo()
    {
        var requester = await app.RequesterAsync();
        var json = $$"""{"title": "Read news", {{JobWithout}}, "environmentNotes": "{{new string('x', 2 * 1024 * 1024)}}"}""";

        var response = await requester.Client.PostAsync("/api/jobs", Chunked(new MemoryStream(Encoding.UTF8.GetBytes(json)), "application/json"));

        await TooLargeAsync(response, "1 MB");
        (await app.WithDbAsync(db => db.Jobs.AnyAsync(j => j.OrganisationId == requester.OrganisationId))).ShouldBeFalse();
    }

    [Fact]
    public async Task AnAnonymousFormPostOverTheSmallLimitIs413()
    {
        var client = app.AnonymousClient();
        var token = await client.AntiforgeryTokenAsync("/Account/SignUp");

        var response = await client.PostFormAsync("/Account/SignUp", token, ("DisplayName", new string('x', 300 * 1024)));

        await TooLargeAsync(response, "256 KB");
    }

    [Fact]
    public async Task AnEndpointThatTakesFilesKeepsItsLargerLimit()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();
        var prompts = string.Concat(Enumerable.Range(0, 60_000).Select(i => $"第 {i} 句：今天天气很好，我们明天去公园。\n"));
        Encoding.UTF8.GetByteCount(prompts).ShouldBeGreaterThan(3 * 1024 * 1024);

        var viaApi = await requester.Client.PutAsync($"/api/jobs/{job.Id}/prompts",
            Chunked(new MemoryStream(Encoding.UTF8.GetBytes(prompts)), "text/plain"));

        viaApi.StatusCode.ShouldBe(HttpStatusCode.OK, await viaApi.Content.ReadAsStringAsync());
        (await app.WithDbAsync(db => db.Prompts.CountAsync(p => p.JobId == job.Id))).ShouldBe(60_000);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static StreamContent Sized(ZeroStream body, string contentType)
    {
        var content = new StreamContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        content.Headers.ContentLength = body.Length;
        return content;
    }

    /// <summary>No Content-Length: the client sends the body chunked and the server learns its size only by reading it.</summary>
    private static UnsizedContent Chunked(Stream body, string contentType)
    {
        var content = new UnsizedContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

    private static async Task TooLargeAsync(HttpResponseMessage response, string limit)
    {
        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge, await response.Content.ReadAsStringAsync());
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = (await response.Content.ReadFromJsonAsync<ProblemDetails>())!;
        problem.Title.ShouldBe("Request too large");
        problem.Detail.ShouldBe($"The request body is larger than the {limit} this address accepts. Send less at once.");
    }


    private sealed class UnsizedContent(Stream body) : StreamContent(body)
    {
        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>A body of zeros made as it is read, which counts how much the server took.</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        public long Taken { get; private set; }

        public override long Length => length;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;

        public override long Position
        {
            get => Taken;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - Taken);
            Array.Clear(buffer, offset, n);
            Taken += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
