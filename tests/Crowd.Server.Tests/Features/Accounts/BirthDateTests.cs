using System.Net;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Tests.Features.Recording;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Accounts;

public sealed class BirthDateTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    private const string Path = "/Account/BirthDate";

    [Fact]
    public async Task AContributorCorrectsTheirDateOfBirthThemselvesUntilTheyConsent()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        var client = await app.SignedInClientAsync(user.Email!);

        using var response = await client.SubmitAsync(Path, ("DateOfBirth", "1991-02-03"));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await BornAsync(user.Id)).ShouldBe(new DateOnly(1991, 2, 3));
        (await app.WithDbAsync(db => db.BirthDateChanges.CountAsync(c => c.UserId == user.Id))).ShouldBe(0);
    }

    [Fact]
    public async Task AfterAConsentAChangeWaitsForAnAdminWhoApprovesOrRejectsItAndBothAreAudited()
    {
        var job = await RecordingTestData.PublishedJobAsync(app);
        var user = await RecordingTestData.ContributorAsync(app, consentTo: job);
        var client = await app.SignedInClientAsync(user.Email!);
        (await client.GetPageAsync(Path)).ShouldContain("data-testid=\"birthdate-locked\"");

        var (status, html) = await client.SubmitToAsync(Path, Path, new Dictionary<string, string> { ["DateOfBirth"] = "2010-05-05" });
        status.ShouldBe(HttpStatusCode.OK);
        html.ShouldContain("Say why the date on your account is wrong, so that an admin can check it.");
        using var asked = await client.SubmitAsync(Path, ("DateOfBirth", "2010-05-05"), ("Reason", "I typed the wrong year."));
        asked.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await BornAsync(user.Id)).ShouldBe(new DateOnly(1990, 1, 1), "nothing changes before an admin decides");
        (await client.GetPageAsync(Path)).ShouldContain("data-testid=\"birthdate-pending\"");

        var admin = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);
        var review = await admin.GetPageAsync("/Admin/BirthDates");
        review.ShouldContain("I typed the wrong year.");
        var changeId = await app.WithDbAsync(db => db.BirthDateChanges.Where(c => c.UserId == user.Id).Select(c => c.Id).SingleAsync());
        using var approved = await admin.PostFormAsync("/Admin/BirthDates", PageForms.TokenIn(review), ("id", changeId.ToString()), ("approve", "true"));
        approved.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await BornAsync(user.Id)).ShouldBe(new DateOnly(2010, 5, 5));

        using var again = await client.SubmitAsync(Path, ("DateOfBirth", "1990-01-01"), ("Reason", "Changed my mind."));
        var second = await app.WithDbAsync(db => db.BirthDateChanges.Where(c => c.UserId == user.Id && c.DecidedAt == null).Select(c => c.Id).SingleAsync());
        using var rejected = await admin.PostFormAsync("/Admin/BirthDates", PageForms.TokenIn(await admin.GetPageAsync("/Admin/BirthDates")),
            ("id", second.ToString()), ("approve", "false"));
        (await BornAsync(user.Id)).ShouldBe(new DateOnly(2010, 5, 5), "a rejected change is not applied");

        var audit = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().Where(a => a.SubjectId == user.Id.ToString()).OrderBy(a => a.Seq)
            .Select(a => new { a.Action, a.Details }).ToListAsync());
        audit.Select(a => a.Action).ShouldBe(["birthdate.change_requested", "birthdate.change_decided", "birthdate.change_requested", "birthdate.change_decided"]);
        audit[1].Details.ShouldContain("\"approved\":true");
        audit[3].Details.ShouldContain("\"approved\":false");
    }

    private Task<DateOnly> BornAsync(Guid userId) => app.WithDbAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.DateOfBirth).SingleAsync());
}
