using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.Escrow;

/// <summary>
/// The overflow an outside probe found: a rate of long.MaxValue (or 2^62 × 4 h) gave a budget of zero or less, a job that
/// published unfunded and minted pay; an admin's typo of 92,233,720,368,547,758.07 CNY made the spend page a permanent 500.
/// Every figure now has a documented maximum and is refused with a problem naming its field.
/// </summary>
public sealed class MoneyLimitsApiTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    private static async Task<HttpResponseMessage> PostJobAsync(HttpClient client, string overrides, string? language = null)
    {
        var body = JsonSerializer.SerializeToNode(JobsTestData.ValidJob(), JsonSerializerOptions.Web)!.AsObject();
        foreach (var property in JsonDocument.Parse(overrides).RootElement.EnumerateObject())
        {
            body[property.Name] = System.Text.Json.Nodes.JsonNode.Parse(property.Value.GetRawText());
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        if (language is not null)
        {
            request.Headers.AcceptLanguage.ParseAdd(language);
        }
        return await client.SendAsync(request);
    }

    private async Task<int> JobCountAsync(Guid organisation) => await app.WithDbAsync(db => db.Jobs.CountAsync(j => j.OrganisationId == organisation));

    [Theory]
    [InlineData(9_223_372_036_854_775_807L)] // long.MaxValue: the budget wrapped to a negative figure
    [InlineData(4_611_686_018_427_387_904L)] // 2^62: for 4 target hours the budget wrapped to zero
    [InlineData(100_000_001L)] // one fen above the absolute cap
    public async Task PostingAJobWithAnHourlyRateAboveTheCapAnswers400NamingHourlyRateAndWritesNothing(long rate)
    {
        var requester = await app.RequesterAsync();

        var response = await PostJobAsync(requester.Client, $$"""{"hourlyRate":{"minor":{{rate}},"currency":"CNY"},"targetHours":4}""");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        problem.Errors.Keys.ShouldBe(["hourlyRate"]);
        problem.Errors["hourlyRate"].Single().ShouldBe("The hourly rate can be at most 1,000,000.00 CNY. Check the figure: it looks like a typing mistake.");
        (await JobCountAsync(requester.OrganisationId)).ShouldBe(0);
    }

    [Fact]
    public async Task AnHourlyRateAboveAHundredTimesTheRegionsFloorIsRefusedNamingTheCeiling()
    {
        var requester = await app.RequesterAsync();

        var tooHigh = await PostJobAsync(requester.Client, """{"hourlyRate":{"minor":277001,"currency":"CNY"}}""");
        var highest = await PostJobAsync(requester.Client, """{"hourlyRate":{"minor":277000,"currency":"CNY"}}""");

        tooHigh.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await tooHigh.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["hourlyRate"].Single().ShouldBe(
            "The hourly rate 2,770.01 CNY is more than 100 times the floor for Beijing, mainland China (CN-BJ): at most 2,770.00 CNY. Check the figure: it looks like a typing mistake.");
        highest.StatusCode.ShouldBe(HttpStatusCode.Created, "100 × the 27.70 CNY floor is allowed");
        (await JobCountAsync(requester.OrganisationId)).ShouldBe(1);
    }

    [Fact]
    public async Task RaisingAPublishedJobsRateAboveTheCeilingIsRefusedAndTheOldTermsStay()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.PublishedJobAsync(app);

        var response = await requester.Client.PutAsJsonAsync($"/api/jobs/{job.Id}", new JobRequest(HourlyRate: new Money(10_000_000, "CNY")));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys.ShouldBe(["hourlyRate"]);
        var after = (await requester.Client.GetFromJsonAsync<JobResponse>($"/api/jobs/{job.Id}"))!;
        (after.HourlyRate, after.Version).ShouldBe((new Money(3000, "CNY"), 1));
    }

    [Fact]
    public async Task TheRateCapRefusalComesInChineseWhenAsked()
    {
        var requester = await app.RequesterAsync();

        var response = await PostJobAsync(requester.Client, """{"hourlyRate":{"minor":9223372036854775807,"currency":"CNY"}}""", "zh-CN");

        (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["hourlyRate"].Single()
            .ShouldBe("时薪最高为 1,000,000.00 CNY。请核对数字，这看起来像是输入错误。");
    }

    [Fact]
    public async Task TargetHoursAboveTheMaximumAreRefusedWhateverTheRate()
    {
        var requester = await app.RequesterAsync();

        var response = await PostJobAsync(requester.Client, """{"hourlyRate":{"minor":277000,"currency":"CNY"},"targetHours":100001}""");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys.ShouldBe(["targetHours"]);
    }

    [Fact]
    public async Task TheLargestJobStillHasABudgetUnderTenToTheFifteenth()
    {
        var requester = await app.RequesterAsync();

        var response = await PostJobAsync(requester.Client, """{"hourlyRate":{"minor":277000,"currency":"CNY"},"targetHours":100000,"supplierFeeBp":5000}""");

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var job = (await response.Content.ReadFromJsonAsync<JobResponse>())!;
        // 100,000 h × 2,770.00 CNY = 277,000,000.00 CNY of pay, + 10 % platform fee + 50 % supplier fee
        job.Budget!.Total.ShouldBe(new Money(44_320_000_000, "CNY"));
    }

    [Fact]
    public async Task AFundingTypoOfTheLargestLongIsRefusedAndTheSpendPageKeepsWorking()
    {
        var admin = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();

        var (typoStatus, typo) = await RecordTransferAsync(admin, job.Id, "92233720368547758.07", "ICBC-TYPO");
        var (_, next) = await RecordTransferAsync(admin, job.Id, "1.00", "ICBC-NEXT");

        typoStatus.ShouldBe(HttpStatusCode.OK);
        typo.ShouldContain("The amount 92,233,720,368,547,758.07 CNY is more than one job's escrow can ever hold (9,999,999,999,999.99 CNY). Check the figure: it looks like a typing mistake.");
        next.ShouldContain($"Recorded for \"{job.Title}\". Its escrow now holds 1.00 CNY.");
        (await app.WithDbAsync(db => LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job.Id, "CNY")))).ShouldBe(new Money(100, "CNY"));
        var spend = WebUtility.HtmlDecode(await requester.Client.GetPageAsync("/Escrow/Spend", "en"));
        spend.ShouldContain("<td data-testid=\"escrow\">1.00 CNY</td>");
    }

    [Fact]
    public async Task AFundingThatWouldTakeTheEscrowPastTheMaximumIsRefusedNamingWhatItHolds()
    {
        var admin = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();
        (await RecordTransferAsync(admin, job.Id, "9999999999999.99", "BOC-MAX")).Html
            .ShouldContain($"Recorded for \"{job.Title}\". Its escrow now holds 9,999,999,999,999.99 CNY, which covers the budget");
        var (status, over) = await RecordTransferAsync(admin, job.Id, "0.01", "BOC-OVER");

        status.ShouldBe(HttpStatusCode.OK);
        over.ShouldContain("With this amount the job's escrow would hold more than 9,999,999,999,999.99 CNY, the most one escrow can hold. It holds 9,999,999,999,999.99 CNY now.");
        (await app.WithDbAsync(db => LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job.Id, "CNY")))).Minor.ShouldBe(Money.MaxMinor);
    }

    [Theory]
    [InlineData("79228162514264337593543950335")] // the largest decimal: scaling it to fen overflowed
    [InlineData("92233720368547758.08")] // one fen past a long
    public async Task AFundingFigureTooLargeToReadIsRefusedAsAnAmountNotA500(string amount)
    {
        var admin = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync();

        var (status, html) = await RecordTransferAsync(admin, job.Id, amount, "HUGE-" + Guid.NewGuid().ToString("N")[..8]);

        status.ShouldBe(HttpStatusCode.OK);
        html.ShouldContain("Enter the amount received, like 1250.00.");
        (await app.WithDbAsync(db => LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job.Id, "CNY")))).Minor.ShouldBe(0);
    }

    [Fact]
    public async Task AFloorAboveItsMaximumIsRefusedNamingTheField()
    {
        var admin = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);

        var response = await admin.PutAsJsonAsync("/api/rate-floors/CN-SZ/CNY", new
        {
            regionName = "Shenzhen", legalMinimum = new Money(long.MaxValue, "CNY"), marketReference = new Money(2500, "CNY"), source = "typo",
        });

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        problem.Errors.Keys.ShouldBe(["legalMinimum"]);
        problem.Errors["legalMinimum"].Single().ShouldBe(
            "A floor can be at most 10,000.00 CNY: jobs may pay up to 100 times their floor, and no rate can pass 1,000,000.00 CNY.");
        (await app.WithDbAsync(db => db.RateFloors.AnyAsync(f => f.Region == "CN-SZ"))).ShouldBeFalse();
    }

    [Fact]
    public async Task AnAbsurdSupplierFeeOnTheJobFormIsRefusedNamingTheFieldNotA500()
    {
        var requester = await app.RequesterAsync();
        var token = PageForms.TokenIn(await requester.Client.GetStringAsync("/Jobs/Edit"));

        using var response = await requester.Client.PostFormAsync("/Jobs/Edit?handler=Save", token,
            ("Form.Title", "Read Mandarin news"), ("Form.Language", "zh-CN"), ("Form.TakesPerPrompt", "1"), ("Form.ClipMinSeconds", "1"),
            ("Form.ClipMaxSeconds", "15"), ("Form.MinSnrDb", "15"), ("Form.MaxClippingPercent", "0.5"), ("Form.MinSpeechPercent", "30"),
            ("Form.HourlyRate", "30.00"), ("Form.TargetHours", "40"), ("Form.Currency", "CNY"), ("Form.Region", "CN-BJ"),
            ("Form.EstimatedSecondsPerClip", "20"), ("Form.BuyerName", "Acme Speech AI Ltd"), ("Form.PurposeSpeechRecognition", "true"),
            ("Form.RetentionDays", "365"), ("Form.SupplierFeePercent", "79228162514264337593543950335"));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()).ShouldContain("The supplier fee must be between 0 and 5000 basis points (50 %).");
        (await JobCountAsync(requester.OrganisationId)).ShouldBe(0);
    }

    /// <summary>The admin records a bank transfer for the job on /Escrow/Fund, by the job's payment reference.</summary>
    private async Task<(HttpStatusCode Status, string Html)> RecordTransferAsync(HttpClient admin, Guid jobId, string amount, string bankReference)
    {
        string reference;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            reference = await scope.ServiceProvider.GetRequiredService<BankTransfers>().ReferenceForAsync(jobId);
        }
        var (status, html) = await admin.SubmitToAsync("/Escrow/Fund", "/Escrow/Fund", new Dictionary<string, string>
        {
            ["PaymentReference"] = reference, ["Amount"] = amount, ["Currency"] = "CNY", ["BankReference"] = bankReference,
        });
        return (status, WebUtility.HtmlDecode(html));
    }
}
