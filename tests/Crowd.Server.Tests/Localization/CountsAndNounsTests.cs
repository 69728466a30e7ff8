using System.Net;
using System.Text.RegularExpressions;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Features.Reviews;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Localization;

/// <summary>Wherever a count meets a noun, one of something reads in the singular: never "1 clips" or "1 days".</summary>
public sealed partial class CountsAndNounsTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    [Fact]
    public async Task ACountOfOneReadsInTheSingularOnTheBoardMyDataTheReviewQueueAndTheJobEditor()
    {
        var job = await RecordingTestData.PublishedJobAsync(app, prompts: 1, title: "Say one word", adjust: j => j.Terms = j.Terms with { RetentionDays = 1 });
        var board = await PageAsync(app.AnonymousClient(), "/");
        var organisation = await app.WithDbAsync(db => db.Jobs.Where(j => j.Id == job.Id).Select(j => j.OrganisationId).SingleAsync());
        var requester = await app.CreateUserAsync(Roles.Requester, organisationId: organisation);
        var contributor = await RecordingTestData.ContributorAsync(app, consentTo: job);
        await ReviewTestData.ClipAsync(app, new ReviewJob(job, organisation, requester), contributor.Id);
        var asContributor = await app.SignedInClientAsync(contributor.Email!);
        var asRequester = await app.SignedInClientAsync(requester.Email!);

        var myData = await PageAsync(asContributor, "/MyData");
        var queue = await PageAsync(asRequester, $"/Reviews/{job.Id}");
        var editor = await PageAsync(asRequester, $"/Jobs/Edit?id={job.Id}");

        Regex.Match(board, $"data-job-id=\"{job.Id}\"[\\s\\S]*?</article>").Value.ShouldContain("kept for 1 day");
        myData.ShouldContain("Kept for 1 day after recording");
        queue.ShouldContain("1 clip is waiting for your review. A clip you do not review within ");
        editor.ShouldContain("1 prompt.");
        foreach (var (page, html) in new[] { ("/", board), ("/MyData", myData), ("/Reviews", queue), ("/Jobs/Edit", editor) })
        {
            OneWithAPluralNoun().Match(html).Value.ShouldBeEmpty($"{page} puts a plural noun after 1");
        }
    }

    private static async Task<string> PageAsync(HttpClient client, string path) => WebUtility.HtmlDecode(await client.GetPageAsync(path, "en"));

    [GeneratedRegex(@"\b1 (clips|days|hours|minutes|seconds|prompts|takes|recordings|items|files|notices)\b")]
    private static partial Regex OneWithAPluralNoun();
}
