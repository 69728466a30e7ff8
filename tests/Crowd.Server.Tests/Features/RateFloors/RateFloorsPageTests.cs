using System.Net;
using System.Text.RegularExpressions;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.RateFloors;

public sealed partial class RateFloorsPageTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task AnAdminSeesTheTableAndSavesAFloorThroughTheForm()
    {
        var admin = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);
        var page = await admin.GetStringAsync("/Admin/RateFloors?region=CN-BJ&currency=CNY");
        page.ShouldContain("data-region=\"CN-BJ\"");
        page.ShouldContain("27.70 CNY");
        var token = AntiforgeryToken().Match(page).Groups[1].Value;

        var response = await admin.PostAsync("/Admin/RateFloors", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Form.Region"] = "CN-GZ",
            ["Form.Currency"] = "CNY",
            ["Form.RegionName"] = "Guangzhou, mainland China",
            ["Form.LegalMinimum"] = "23.70",
            ["Form.MarketReference"] = "25.00",
            ["Form.Source"] = "Test figures.",
            ["__RequestVerificationToken"] = token,
        }));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var floor = await app.WithDbAsync(db => db.RateFloors.SingleAsync(f => f.Region == "CN-GZ"));
        (floor.LegalMinimumMinor, floor.MarketReferenceMinor, floor.FloorMinor).ShouldBe((2370L, 2500L, 2500L));
    }

    [Fact]
    public async Task ARequesterCannotOpenTheFloorPage()
    {
        var requester = await app.RequesterAsync();

        var response = await requester.Client.GetAsync("/Admin/RateFloors");

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldContain("/Account/Denied");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
