using System.Net;
using System.Net.Http.Json;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Suppliers;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Suppliers;

public sealed class SupplierPagesTests(CrowdApp app) : IClassFixture<CrowdApp>
{
    private sealed record SupplierAccount(HttpClient Client, Guid OrganisationId, string Name);

    private async Task<SupplierAccount> SupplierAsync()
    {
        var name = "Campus Voices " + Guid.NewGuid().ToString("N")[..6];
        var org = await app.CreateOrganisationAsync(OrganisationKind.Supplier, name);
        var user = await app.CreateUserAsync(Roles.Supplier, organisationId: org);
        return new SupplierAccount(await app.SignedInClientAsync(user.Email!), org, name);
    }

    private async Task<string> InvitationAsync(SupplierAccount supplier)
    {
        var response = await supplier.Client.SubmitAsync("/Supplier/Invitations?handler=Create", ("label", "Spring course"));
        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        return await app.WithDbAsync(db => db.Set<SupplierInvitation>().Where(i => i.OrganisationId == supplier.OrganisationId)
            .OrderByDescending(i => i.CreatedAt).Select(i => i.Code).FirstAsync());
    }

    private async Task<(HttpClient Client, Guid Id)> ContributorAsync()
    {
        var user = await app.CreateUserAsync(Roles.Contributor);
        return (await app.SignedInClientAsync(user.Email!), user.Id);
    }

    private Task<List<SupplierAttribution>> AttributionsAsync(Guid contributor) =>
        app.WithDbAsync(db => db.Set<SupplierAttribution>().AsNoTracking().Where(a => a.ContributorId == contributor).ToListAsync());

    [Fact]
    public async Task EachInvitationShowsItsLinkFromThePublicAddressWithACopyButtonAndAQrCodeDrawnHere()
    {
        var supplier = await SupplierAsync();
        var code = await InvitationAsync(supplier);
        var id = await app.WithDbAsync(db => db.Set<SupplierInvitation>().Where(i => i.Code == code).Select(i => i.Id).SingleAsync());

        var page = await supplier.Client.GetPageAsync("/Supplier/Invitations");
        using var qr = await supplier.Client.GetAsync($"/Supplier/Invitations?handler=Qr&id={id}");
        using var othersQr = await (await SupplierAsync()).Client.GetAsync($"/Supplier/Invitations?handler=Qr&id={id}");

        page.ShouldContain($"<code data-testid=\"link\">http://localhost:5000/join/{code}</code>");
        page.ShouldContain($"data-copy=\"http://localhost:5000/join/{code}\"");
        page.ShouldContain($"src=\"/Supplier/Invitations?handler=Qr&amp;id={id}\"");
        page.ShouldContain("/js/suppliers/copy.js");
        qr.StatusCode.ShouldBe(HttpStatusCode.OK);
        qr.Content.Headers.ContentType!.MediaType.ShouldBe("image/svg+xml");
        (await qr.Content.ReadAsStringAsync()).ShouldContain("<svg");
        othersQr.StatusCode.ShouldBe(HttpStatusCode.NotFound, "another supplier's invitation");
    }

    [Fact]
    public async Task TheFiguresPageSaysInWordsWhenFiguresSignUpsAndTheFeeWillAppear()
    {
        var supplier = await SupplierAsync();

        var page = WebUtility.HtmlDecode(await supplier.Client.GetPageAsync("/Supplier/Stats"));

        page.ShouldContain("Figures appear once at least 5 people you invited have worked in a finished month: fewer than 5 so far.");
        page.ShouldContain("Sign-ups appear once at least 5 people have joined through your invitations in a finished month: fewer than 5 so far.");
        page.ShouldContain("Your fee appears here with your figures, once a finished month has at least 5 of your people.");
        page.ShouldNotContain("Signed up: suppressed");
        page.ShouldContain("is hidden to protect their privacy.");
        page.ShouldNotContain("suppressed", customMessage: "a statistician's word, not a supplier's");
        var chinese = WebUtility.HtmlDecode(await supplier.Client.GetPageAsync("/Supplier/Stats", "zh-Hans"));
        chinese.ShouldContain("目前少于 5 人");
    }

    [Fact]
    public async Task SigningUpThroughAnInvitationLeadsToTheAttributionScreenWhichExplainsWhatTheSupplierSees()
    {
        var supplier = await SupplierAsync();
        var code = await InvitationAsync(supplier);
        var client = app.AnonymousClient();

        var landing = await client.GetPageAsync($"/join/{code}");
        landing.ShouldContain(WebUtility.HtmlEncode(supplier.Name));
        var email = TestAccounts.NewEmail("invited");
        var signUp = await client.SubmitAsync($"/Account/SignUp?invite={code}",
            ("Email", email), ("Password", TestAccounts.Password), ("DisplayName", "Li Na"),
            ("DateOfBirth", "2003-05-01"), ("Role", Roles.Contributor), ("Invite", code));

        signUp.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var signInPage = signUp.Headers.Location!.ToString();
        signInPage.ShouldBe("/Account/SignIn?signedUp=true&returnUrl=" + Uri.EscapeDataString($"/Account/Supplier/Join?code={code}"));
        using var signedIn = await client.PostFormAsync(signInPage, await client.AntiforgeryTokenAsync(signInPage),
            ("Email", email), ("Password", TestAccounts.Password), ("ReturnUrl", $"/Account/Supplier/Join?code={code}"));
        signedIn.Headers.Location!.ToString().ShouldBe($"/Account/Supplier/Join?code={code}");
        var screen = WebUtility.HtmlDecode(await client.GetPageAsync(signedIn.Headers.Location.ToString()));
        screen.ShouldContain("What the supplier will never see");
        screen.ShouldContain("Whether you took or declined any job");
        screen.ShouldContain("Only totals over at least 5 contributors");
        var chinese = await client.GetPageAsync(signedIn.Headers.Location.ToString(), "zh-CN");
        chinese.ShouldContain("供应商永远看不到什么");
    }

    [Fact]
    public async Task OnlyYesAttributesAndNoLeavesNoTraceAtAll()
    {
        var supplier = await SupplierAsync();
        var code = await InvitationAsync(supplier);
        var (client, id) = await ContributorAsync();
        var auditBefore = await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.ActorId == id));

        var no = await client.SubmitAsync($"/Account/Supplier/Join?code={code}&handler=No", ("code", code));
        no.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await AttributionsAsync(id)).ShouldBeEmpty();
        (await app.WithDbAsync(db => db.AuditLog.CountAsync(a => a.ActorId == id))).ShouldBe(auditBefore);

        var yes = await client.SubmitAsync($"/Account/Supplier/Join?code={code}&handler=Yes", ("code", code));
        yes.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var attribution = (await AttributionsAsync(id)).ShouldHaveSingleItem();
        (attribution.OrganisationId, attribution.DetachedAt).ShouldBe((supplier.OrganisationId, null));
        (await app.WithDbAsync(db => db.AuditLog.AnyAsync(a => a.Action == "supplier.attributed" && a.ActorId == id))).ShouldBeTrue();
    }

    [Fact]
    public async Task AContributorDetachesFromTheirSupplierPageAndTheHistoryStays()
    {
        var supplier = await SupplierAsync();
        var code = await InvitationAsync(supplier);
        var (client, id) = await ContributorAsync();
        await client.SubmitAsync($"/Account/Supplier/Join?code={code}&handler=Yes", ("code", code));
        (await client.GetPageAsync("/Account/Supplier")).ShouldContain(WebUtility.HtmlEncode(supplier.Name));

        var response = await client.SubmitAsync("/Account/Supplier?handler=Detach");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldContain("data-testid=\"detached\"");
        (await AttributionsAsync(id)).ShouldHaveSingleItem().DetachedAt.ShouldNotBeNull();
        (await app.WithDbAsync(db => db.AuditLog.AnyAsync(a => a.Action == "supplier.detached" && a.ActorId == id))).ShouldBeTrue();
    }

    [Fact]
    public async Task AnAnonymousReportStoresNoIdentityAnywhereNotEvenInTheAuditLog()
    {
        var supplier = await SupplierAsync();
        var (client, id) = await ContributorAsync();

        var response = await client.SubmitAsync("/Report/Coercion", ("SupplierOrganisationId", supplier.OrganisationId.ToString()),
            ("Description", "Our teacher said we fail the course unless we record 200 sentences."), ("Anonymous", "true"));

        (await response.Content.ReadAsStringAsync()).ShouldContain("data-testid=\"report-filed\"");
        var report = await app.WithDbAsync(db => db.Set<CoercionReport>().AsNoTracking().SingleAsync(r => r.SupplierOrganisationId == supplier.OrganisationId));
        report.ReporterId.ShouldBeNull();
        report.CreatedAt.TimeOfDay.ShouldBe(TimeSpan.Zero, "the time is kept only to the day");
        var mine = id.ToString();
        (await app.WithDbAsync(db => db.AuditLog.Where(a => a.ActorId == id || a.SubjectId == mine || a.Details.Contains(mine) || a.Reason.Contains(mine))
            .CountAsync())).ShouldBe(0);
        var audit = await app.WithDbAsync(db => db.AuditLog.AsNoTracking().SingleAsync(a => a.SubjectId == report.Id.ToString()));
        (audit.Action, audit.ActorKind, audit.ActorId).ShouldBe(("coercion.reported", "anonymous", null));
    }

    [Fact]
    public async Task SuspendingASupplierStopsItsInvitationsAndFiguresAndEveryStepIsAudited()
    {
        var supplier = await SupplierAsync();
        var code = await InvitationAsync(supplier);
        var (reporter, reporterId) = await ContributorAsync();
        await reporter.SubmitAsync("/Report/Coercion", ("SupplierOrganisationId", supplier.OrganisationId.ToString()),
            ("Description", "The school tied the recordings to our grades."));
        var report = await app.WithDbAsync(db => db.Set<CoercionReport>().AsNoTracking().SingleAsync(r => r.SupplierOrganisationId == supplier.OrganisationId));
        report.ReporterId.ShouldBe(reporterId);
        var admin = await app.SignedInClientAsync((await app.CreateUserAsync(Roles.Admin)).Email!);
        (await admin.GetPageAsync("/Admin/CoercionReports")).ShouldContain("The school tied the recordings to our grades.");

        var suspend = await admin.SubmitAsync("/Admin/CoercionReports?handler=Suspend", ("reportId", report.Id.ToString()), ("reason", "Grades tied to recording"));
        suspend.StatusCode.ShouldBe(HttpStatusCode.Redirect);

        (await app.AnonymousClient().GetPageAsync($"/join/{code}")).ShouldContain("data-testid=\"invitation-invalid\"");
        var (invited, invitedId) = await ContributorAsync();
        await invited.SubmitAsync($"/Account/Supplier/Join?code={code}&handler=Yes", ("code", code));
        (await AttributionsAsync(invitedId)).ShouldBeEmpty();
        var stats = await supplier.Client.GetAsync("/api/supplier/stats?currency=CNY");
        stats.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await stats.Content.ReadFromJsonAsync<ProblemDetails>())!.Title.ShouldBe("Your organisation is suspended");
        (await supplier.Client.GetPageAsync("/Supplier/Invitations")).ShouldContain("data-testid=\"suspended\"");

        var reinstate = await admin.SubmitAsync("/Admin/CoercionReports?handler=Reinstate", ("supplierId", supplier.OrganisationId.ToString()),
            ("reason", "Supplier cut ties with the school"));
        reinstate.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var close = await admin.SubmitAsync("/Admin/CoercionReports?handler=Close", ("reportId", report.Id.ToString()), ("outcome", "Warned and reinstated"));
        close.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        await invited.SubmitAsync($"/Account/Supplier/Join?code={code}&handler=Yes", ("code", code));
        (await AttributionsAsync(invitedId)).ShouldHaveSingleItem();

        var org = supplier.OrganisationId.ToString();
        var actions = await app.WithDbAsync(db => db.AuditLog.Where(a => a.SubjectId == org || a.SubjectId == report.Id.ToString())
            .OrderBy(a => a.Seq).Select(a => a.Action).ToListAsync());
        actions.ShouldBe(["coercion.reported", "supplier.suspended", "supplier.reinstated", "coercion.closed", "supplier.attributed"]);
    }

    [Fact]
    public async Task ASuppressedCellIsRefusedWithAProblemSayingSoInBothLanguagesNeverAZero()
    {
        var supplier = await SupplierAsync();

        var response = await supplier.Client.GetAsync("/api/supplier/stats?month=2025-01&currency=CNY");
        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var problem = (await response.Content.ReadFromJsonAsync<ProblemDetails>())!;
        problem.Title.ShouldBe("This figure is hidden to protect privacy");
        problem.Detail!.ShouldContain("fewer than 5 people");

        using var chinese = new HttpRequestMessage(HttpMethod.Get, $"/api/supplier/stats?jobId={Guid.NewGuid()}");
        chinese.Headers.AcceptLanguage.ParseAdd("zh-CN");
        var zh = await supplier.Client.SendAsync(chinese);
        zh.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await zh.Content.ReadFromJsonAsync<ProblemDetails>())!.Title.ShouldBe("为保护隐私，此数据已隐藏");
        (await supplier.Client.GetAsync("/api/supplier/signups?month=2025-01")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task FiltersTheApiDoesNotOfferAndOpenMonthsAreRefusedAsBadInput()
    {
        var supplier = await SupplierAsync();

        var range = await supplier.Client.GetAsync("/api/supplier/stats?currency=CNY&from=2025-01-01&to=2025-01-15");
        range.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await range.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys.ShouldContain("from");
        var open = await supplier.Client.GetAsync($"/api/supplier/stats?currency=CNY&month={DateTime.UtcNow:yyyy-MM}");
        open.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await open.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["month"].ShouldHaveSingleItem().ShouldContain("only after it has ended");
        var (contributor, _) = await ContributorAsync();
        (await contributor.GetAsync("/api/supplier/stats?currency=CNY")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task TheRequesterSetsTheSupplierFeeOnTheJobAndCannotChangeItOnceContributorsHaveSeenIt()
    {
        var requester = await app.RequesterAsync();
        var job = await requester.Client.CreateJobAsync(JobsTestData.ValidJob() with { SupplierFeeBp = 1500 });
        var budget = await app.WithDbAsync(db => db.Set<JobBudget>().AsNoTracking().SingleAsync(b => b.JobId == job.Id));
        budget.SupplierFeeBp.ShouldBe(1500);
        var funding = (await app.WithDbAsync(db => JobFunding.StatusAsync(db, job.Id)))!;
        funding.Budget.Minor.ShouldBe(120_000 + 12_000 + 18_000, "pay, then the platform fee and the supplier fee on top");

        var published = await requester.Client.PublishedJobAsync(app);
        var change = await requester.Client.PutAsJsonAsync($"/api/jobs/{published.Id}", new JobRequest(SupplierFeeBp: 500));

        change.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await change.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["supplierFeeBp"].ShouldHaveSingleItem()
            .ShouldContain("only be changed before the job is published");
    }
}
