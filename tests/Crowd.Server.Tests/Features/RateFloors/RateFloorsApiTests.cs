using System.Net;
using System.Net.Http.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Infrastructure.Money;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.RateFloors;

public sealed class RateFloorsApiTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task AnyoneCanListTheFloorsWithTheLargerFigureAsTheFloor()
    {
        var floors = await app.CreateClient().GetFromJsonAsync<RateFloorResponse[]>("/api/rate-floors");

        var beijing = floors!.Single(f => f.Region == "CN-BJ");
        beijing.LegalMinimum.ShouldBe(new Money(2770, "CNY"));
        beijing.MarketReference.ShouldBe(new Money(2500, "CNY"));
        beijing.Floor.ShouldBe(new Money(2770, "CNY"));
        beijing.FloorFormatted.ShouldBe("27.70 CNY");
        beijing.Source.ShouldContain("27.7");
        floors!.Single(f => f.Region == "US").Floor.ShouldBe(new Money(1200, "USD"));
    }

    [Fact]
    public async Task AnAdminSetsAFloorAndTheNextPublicationUsesItWhilePublishedJobsKeepTheirTerms()
    {
        var admin = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);
        var requester = await app.RequesterAsync();
        var created = await admin.PutAsJsonAsync("/api/rate-floors/CN-SH/CNY",
            new RateFloorRequest("Shanghai, mainland China", new Money(2500, "CNY"), new Money(2600, "CNY"), "Test figures."));
        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        var published = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob() with { Region = "CN-SH", HourlyRate = new Money(2800, "CNY") });

        var raised = await admin.PutAsJsonAsync("/api/rate-floors/CN-SH/CNY",
            new RateFloorRequest(null, new Money(3000, "CNY"), new Money(2600, "CNY"), "Raised."));
        raised.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await raised.Content.ReadFromJsonAsync<RateFloorResponse>())!.Floor.ShouldBe(new Money(3000, "CNY"));

        var stillPublished = (await requester.Client.GetFromJsonAsync<JobResponse>($"/api/jobs/{published.Id}"))!;
        (stillPublished.Status, stillPublished.Version).ShouldBe(("published", 1));
        var draft = await requester.Client.CreateJobAsync(JobsTestData.ValidJob() with { Region = "CN-SH", HourlyRate = new Money(2800, "CNY") });
        await requester.Client.PutPromptsAsync(draft.Id, "一句话。");
        var refused = await requester.Client.PostAsync($"/api/jobs/{draft.Id}/publish", null);
        refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await refused.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail!.ShouldContain("Shanghai, mainland China (CN-SH): 30.00 CNY");
    }

    [Fact]
    public async Task ANonAdminCannotEditFloors()
    {
        var requester = await app.RequesterAsync();

        var response = await requester.Client.PutAsJsonAsync("/api/rate-floors/CN-BJ/CNY",
            new RateFloorRequest(null, new Money(1, "CNY"), new Money(1, "CNY"), "Lowered."));

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await app.WithDbAsync(db => db.RateFloors.SingleAsync(f => f.Region == "CN-BJ"))).LegalMinimumMinor.ShouldBe(2770);
    }

    [Theory]
    [InlineData("beijing", "CNY", "region")]
    [InlineData("CN-BEIJING-CITY-X", "CNY", "region")]
    [InlineData("CN-BJ", "XYZ", "currency")]
    public async Task BadFloorCodesAreRefused(string region, string currency, string field)
    {
        var admin = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);

        var response = await admin.PutAsJsonAsync($"/api/rate-floors/{region}/{currency}",
            new RateFloorRequest("Somewhere", new Money(100, currency), new Money(100, currency), "Test."));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys.ShouldContain(field);
    }

    [Fact]
    public async Task NegativeAmountsAndAMissingSourceAreRefusedAndNothingChanges()
    {
        var admin = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);

        var response = await admin.PutAsJsonAsync("/api/rate-floors/GB/GBP",
            new RateFloorRequest(null, new Money(-1, "GBP"), new Money(900, "GBP"), " "));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys.ShouldBe(["legalMinimum", "source"], ignoreOrder: true);
        (await app.WithDbAsync(db => db.RateFloors.SingleAsync(f => f.Region == "GB"))).LegalMinimumMinor.ShouldBe(1221);
    }
}
