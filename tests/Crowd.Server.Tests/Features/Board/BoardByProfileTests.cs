using System.Net;
using System.Text.RegularExpressions;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.RateFloors;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Infrastructure;

namespace Crowd.Server.Tests.Features.Board;

/// <summary>The board as a contributor's profile shapes it: their languages first (or only), and pay against their own region's floor.</summary>
public sealed partial class BoardByProfileTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task AContributorWhoSpeaksOnlyChineseSeesOnlyTheChineseJobAndItFirstAmongAllJobs()
    {
        var requester = await app.RequesterAsync();
        var chinese = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "Read Mandarin sentences", language: "zh"));
        var english = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "Read English sentences", language: "en-GB"));
        var contributor = await ContributorAsync(("Language", "zh-CN"), ("Region", "CN-BJ"));

        var mine = WebUtility.HtmlDecode(await contributor.GetPageAsync("/"));
        var all = WebUtility.HtmlDecode(await contributor.GetPageAsync("/?all=true"));

        JobIds(mine).ShouldContain(chinese.Id);
        JobIds(mine).ShouldNotContain(english.Id);
        mine.ShouldContain("Jobs in your languages: zh-CN.");
        mine.ShouldContain("href=\"/?all=true\"");
        var everything = JobIds(all);
        everything.ShouldContain(english.Id);
        everything.IndexOf(chinese.Id).ShouldBeLessThan(everything.IndexOf(english.Id), "the job in their language comes first, though the other is newer");
        all.ShouldContain("All jobs, those in your languages first.");
    }

    [Fact]
    public async Task EachJobsPayIsComparedWithTheFloorOfTheContributorsOwnRegion()
    {
        await app.WithDbAsync(async db =>
        {
            if (await db.RateFloors.FindAsync("CN-SH", "CNY") is null)
            {
                db.RateFloors.Add(new RateFloor
                {
                    Region = "CN-SH", Currency = "CNY", RegionName = "Shanghai, mainland China", LegalMinimumMinor = 2700, MarketReferenceMinor = 3300,
                    Source = "Figures for this test.", UpdatedAt = DateTimeOffset.UtcNow,
                });
                await db.SaveChangesAsync();
            }
        });
        var requester = await app.RequesterAsync();
        var job = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "Read weather reports", rateMinor: 3000));
        var beijing = await ContributorAsync(("Region", "CN-BJ"));
        var shanghai = await ContributorAsync(("Region", "CN-SH"));
        var britain = await ContributorAsync(("Region", "GB"));

        FloorLine(await beijing.GetPageAsync("/"), job.Id).ShouldBe("8 % above the lowest rate in Beijing, mainland China (27.70 CNY per hour).");
        FloorLine(await shanghai.GetPageAsync("/"), job.Id).ShouldBe("10 % below the lowest rate in Shanghai, mainland China (33.00 CNY per hour).");
        FloorLine(await britain.GetPageAsync("/"), job.Id).ShouldBe("Paid in CNY; the lowest rate in United Kingdom is 12.21 GBP per hour.");
        FloorLine(await beijing.GetPageAsync("/", "zh-CN"), job.Id).ShouldBe("比北京（中国大陆）的最低时薪（每小时 27.70 CNY）高 8 %。");
    }

    [Fact]
    public async Task AContributorWithNoRegionIsAskedToSetOneInsteadOfSeeingAComparison()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.PublishedJobAsync(app, JobsTestData.ValidJob(title: "Read street names"));
        var contributor = await ContributorAsync();

        var page = WebUtility.HtmlDecode(await contributor.GetPageAsync("/"));
        var anonymous = WebUtility.HtmlDecode(await app.AnonymousClient().GetPageAsync("/"));

        page.ShouldContain("data-testid=\"board-region-prompt\">Where do you live? Set your region in your profile");
        page.ShouldContain("<a href=\"/Account/Profile\">Set your region</a>");
        FloorLine(page, job.Id).ShouldBeNull();
        page.ShouldNotContain("market rate for your region");
        JobIds(page).ShouldContain(job.Id, "without languages in the profile every job is shown");
        anonymous.ShouldNotContain("board-region-prompt");
    }

    private async Task<HttpClient> ContributorAsync(params (string Name, string? Value)[] profile)
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        var client = await app.SignedInClientAsync(user.Email!);
        if (profile.Length > 0)
        {
            using var saved = await client.SubmitAsync("/Account/Profile", profile);
            saved.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }
        return client;
    }

    private static List<Guid> JobIds(string html) => JobCard().Matches(html).Select(m => Guid.Parse(m.Groups[1].Value)).ToList();

    private static string? FloorLine(string html, Guid jobId)
    {
        var card = Regex.Match(WebUtility.HtmlDecode(html), $"data-job-id=\"{jobId}\"[\\s\\S]*?</article>").Value;
        var line = Regex.Match(card, "data-testid=\"board-job-floor\">([^<]*)<");
        return line.Success ? line.Groups[1].Value : null;
    }

    [GeneratedRegex("data-testid=\"board-job\" data-job-id=\"([0-9a-f-]{36})\"")]
    private static partial Regex JobCard();
}
