using System.Net;
using System.Text;
using Crowd.Server.Features.Escrow;
using Crowd.Server.Features.Jobs;
using Crowd.Server.Features.Ledger;
using Crowd.Server.Infrastructure.Mail;
using Crowd.Server.Tests.Features.Jobs;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crowd.Server.Tests.Features.Escrow;

/// <summary>The server with a Stripe key, pointed at the fake Stripe, with the platform's bank details configured.</summary>
public sealed class StripeFundingApp : CrowdApp
{
    public FakeStripe Stripe { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        Stripe = await FakeStripe.StartAsync();
        await base.InitializeAsync();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        UseStripeAndBank(builder, Stripe, new Uri("https://crowd.test/"));
    }

    /// <summary>The settings a server needs to take card payments through this fake Stripe and show the platform's bank account.</summary>
    public static void UseStripeAndBank(IWebHostBuilder builder, FakeStripe stripe, Uri publicUrl)
    {
        builder.UseSetting("Crowd:PublicUrl", publicUrl.ToString());
        builder.UseSetting("Crowd:Stripe:SecretKey", FakeStripe.SecretKey);
        builder.UseSetting("Crowd:Stripe:HostedPageOrigins:0", stripe.BaseAddress.ToString());
        builder.UseSetting("Crowd:Stripe:ApiBase", stripe.BaseAddress.ToString());
        builder.UseSetting("Crowd:Stripe:WebhookSecrets:0", stripe.WebhookSecret);
        builder.UseSetting("Crowd:Funding:Bank:AccountName", "Crowd Platform Ltd");
        builder.UseSetting("Crowd:Funding:Bank:BankName", "Bank of Beijing");
        builder.UseSetting("Crowd:Funding:Bank:AccountNumber", "0109 0001 2345 6789");
    }

    /// <summary>Delivers a Stripe event to the webhook endpoint, signed as Stripe signs it.</summary>
    public async Task<HttpResponseMessage> DeliverAsync(string eventId, string type, string objectJson)
    {
        var now = DateTimeOffset.UtcNow;
        var body = FakeStripe.EventJson(eventId, type, objectJson, now);
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        content.Headers.Add("Stripe-Signature", FakeStripe.Signature(Stripe.WebhookSecret, now.ToUnixTimeSeconds(), body));
        using var client = CreateClient();
        return await client.PostAsync("/api/payouts/stripe/webhook", content);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Stripe.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A requester funds their own job: by card through Stripe Checkout, or by bank transfer with the job's payment reference.</summary>
public sealed class RequesterFundingTests(StripeFundingApp app) : IClassFixture<StripeFundingApp>
{
    /// <summary>A draft with prompts and 40 target hours at 30.00 CNY: a budget of 1,320.00 CNY.</summary>
    private async Task<JobResponse> DraftAsync(Requester requester, bool prompts = true)
    {
        var job = await requester.Client.CreateJobAsync(JobsTestData.ValidJob("Funding " + Guid.NewGuid().ToString("N")[..8]));
        if (prompts)
        {
            await requester.Client.PutPromptsAsync(job.Id, "今天天气很好。\n");
            await app.ApprovedAssessmentAsync(requester.Client, job.Id);
        }
        return job;
    }

    private async Task<FakeCheckout> PayByCardAsync(Requester requester, Guid jobId)
    {
        var before = app.Stripe.Checkouts.Select(c => c.Id).ToHashSet();
        var (status, _) = await requester.Client.SubmitToAsync($"/Jobs/Edit?id={jobId}", $"/Escrow/Pay?handler=Card&jobId={jobId}", new Dictionary<string, string>());
        status.ShouldBe(HttpStatusCode.Redirect);
        return app.Stripe.Checkouts.Single(c => !before.Contains(c.Id));
    }

    private static Task<string> PageAsync(Requester requester, Guid jobId, string query = "") =>
        requester.Client.GetPageAsync($"/Jobs/Edit?id={jobId}{query}", "en").ContinueWith(t => WebUtility.HtmlDecode(t.Result), TaskScheduler.Default);

    [Fact]
    public async Task AnUnfundedJobOffersTheCardTheBankDetailsAndAPaymentReferenceForWhatIsMissing()
    {
        var requester = await app.RequesterAsync();
        var job = await DraftAsync(requester);
        await app.WithDbAsync(db => JobsTestData.FundAsync(db, job.Id, shortBy: 100_000)); // 320.00 in, 1,000.00 missing

        var html = await PageAsync(requester, job.Id);

        html.ShouldContain("The escrow holds 320.00 CNY of the 1,320.00 CNY budget: 1,000.00 CNY is still needed before the job can go live.");
        html.ShouldContain("Pay 1,000.00 CNY by card");
        html.ShouldContain("Transfer 1,000.00 CNY and write this payment reference in the transfer's remark");
        html.ShouldContain("Crowd Platform Ltd");
        html.ShouldContain("0109 0001 2345 6789");
        var reference = await app.WithDbAsync(db => db.Set<JobFundingSettings>().Where(s => s.JobId == job.Id).Select(s => s.PaymentReference).SingleAsync());
        PaymentReference.Parse(reference).Check.ShouldBe(PaymentReferenceCheck.Valid);
        html.ShouldContain($"<code class=\"reference\" data-testid=\"payment-reference\">{reference}</code>");
        (await PageAsync(requester, job.Id)).ShouldContain(reference!, Case.Sensitive, "a job keeps its reference");
    }

    [Fact]
    public async Task PayByCardSendsTheRequesterToStripeForExactlyWhatIsMissing()
    {
        var requester = await app.RequesterAsync();
        var job = await DraftAsync(requester);
        await app.WithDbAsync(db => JobsTestData.FundAsync(db, job.Id, shortBy: 100_000));

        var response = await requester.Client.PostFormAsync($"/Escrow/Pay?handler=Card&jobId={job.Id}",
            await requester.Client.AntiforgeryTokenAsync($"/Jobs/Edit?id={job.Id}"));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var checkout = app.Stripe.Checkouts.Single(c => c.Form["metadata[job_id]"] == job.Id.ToString());
        response.Headers.Location.ShouldBe(new Uri(app.Stripe.BaseAddress, "pay/" + checkout.Id));
        (checkout.Amount, checkout.Currency).ShouldBe((100_000L, "cny"));
        checkout.SuccessUrl.ShouldBe($"https://crowd.test/Jobs/Edit?id={job.Id}&funding=card-paid");
        checkout.CancelUrl.ShouldBe($"https://crowd.test/Jobs/Edit?id={job.Id}&funding=card-cancelled");
        checkout.Form["customer_email"].ShouldBe(requester.User.Email);
        checkout.Form["payment_intent_data[metadata][job_id]"].ShouldBe(job.Id.ToString());
        var request = app.Stripe.Requests.Last(r => r.Path == "/v1/checkout/sessions");
        request.Header("Idempotency-Key").ShouldStartWith($"checkout-{job.Id:N}-100000-");
    }

    [Fact]
    public async Task WhenStripeCannotBeReachedNothingIsChargedAndTheRequesterIsToldWhatToDo()
    {
        var requester = await app.RequesterAsync();
        var job = await DraftAsync(requester);
        for (var i = 0; i < 3; i++)
        {
            app.Stripe.Scripted.Enqueue((503, FakeStripe.Error("api_error", null, "Service unavailable.")));
        }

        var response = await requester.Client.PostFormAsync($"/Escrow/Pay?handler=Card&jobId={job.Id}",
            await requester.Client.AntiforgeryTokenAsync($"/Jobs/Edit?id={job.Id}"));

        response.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        response.Headers.Location!.ToString().ShouldBe($"/Jobs/Edit?id={job.Id}&funding=card-failed");
        (await PageAsync(requester, job.Id, "&funding=card-failed"))
            .ShouldContain("Stripe could not be reached, so no card payment was started. Try again in a few minutes, or pay by bank transfer.");
        app.Stripe.Checkouts.ShouldNotContain(c => c.Form["metadata[job_id]"] == job.Id.ToString());
    }

    [Fact]
    public async Task ACompletedCheckoutFundsTheEscrowOnceHoweverOftenAndInWhicheverFormItArrives()
    {
        var requester = await app.RequesterAsync();
        var job = await DraftAsync(requester);
        var checkout = await PayByCardAsync(requester, job.Id);
        var paid = app.Stripe.Pay(checkout);
        var intent = $$$"""{"id":"{{{checkout.PaymentIntent}}}","object":"payment_intent","amount":132000,"amount_received":132000,"currency":"cny","status":"succeeded","metadata":{"job_id":"{{{job.Id}}}"}}""";

        (await (await app.DeliverAsync("evt_done_" + checkout.Id, "checkout.session.completed", paid)).Content.ReadAsStringAsync()).ShouldContain("Handled");
        (await (await app.DeliverAsync("evt_done_" + checkout.Id, "checkout.session.completed", paid)).Content.ReadAsStringAsync()).ShouldContain("Replayed");
        (await (await app.DeliverAsync("evt_pi_" + checkout.Id, "payment_intent.succeeded", intent)).Content.ReadAsStringAsync()).ShouldContain("Handled");

        (await app.WithDbAsync(db => LedgerQueries.BalanceAsync(db, AccountRef.Escrow(job.Id, "CNY")))).Minor.ShouldBe(132_000);
        var notices = await app.WithDbAsync(db => db.Set<EscrowNotice>().Where(n => n.JobId == job.Id).Select(n => n.Message).ToListAsync());
        notices.ShouldBe([FundedJobs.FundedMessage]);
        var mail = await app.WithDbAsync(db => db.Set<OutboxMail>().Where(m => m.ToAddress == requester.User.Email).ToListAsync());
        mail.Count.ShouldBe(1, "the requester is told once");
        mail[0].Subject.ShouldBe($"Your job \"{job.Title}\" is funded");
        mail[0].Body.ShouldContain("now holds 1,320.00 CNY, which covers its budget of 1,320.00 CNY.");
        mail[0].Body.ShouldContain($"https://crowd.test/Jobs/Edit?id={job.Id}");
        await app.WithDbAsync(MoneyWorld.LedgerIsSoundAsync);

        var html = await PageAsync(requester, job.Id);
        html.ShouldContain("The escrow holds 1,320.00 CNY, which covers the budget.");
        html.ShouldNotContain("Pay by card");
        var (status, _) = await requester.Client.SubmitToAsync($"/Jobs/Edit?id={job.Id}", $"/Jobs/Edit?handler=PublishFunded&id={job.Id}", new Dictionary<string, string>());
        status.ShouldBe(HttpStatusCode.Redirect, "publishing a funded job is one click");
        (await app.WithDbAsync(db => db.Jobs.SingleAsync(j => j.Id == job.Id))).Status.ShouldBe(JobStatus.Published);
    }

    [Fact]
    public async Task AJobWhoseRequesterAskedForItIsPublishedAsSoonAsTheMoneyArrives()
    {
        var requester = await app.RequesterAsync();
        var job = await DraftAsync(requester);
        await requester.Client.SubmitToAsync($"/Jobs/Edit?id={job.Id}", $"/Escrow/Pay?handler=AutoPublish&jobId={job.Id}",
            new Dictionary<string, string> { ["on"] = "true" });
        (await PageAsync(requester, job.Id)).ShouldContain("The job will be published as soon as the escrow covers its budget.");
        var checkout = await PayByCardAsync(requester, job.Id);

        (await app.DeliverAsync("evt_auto_" + checkout.Id, "checkout.session.completed", app.Stripe.Pay(checkout))).StatusCode.ShouldBe(HttpStatusCode.OK);

        (await app.WithDbAsync(db => db.Jobs.SingleAsync(j => j.Id == job.Id))).Status.ShouldBe(JobStatus.Published);
        (await app.WithDbAsync(db => db.Set<EscrowNotice>().Where(n => n.JobId == job.Id).Select(n => n.Message).ToListAsync()))
            .ShouldBe([FundedJobs.PublishedMessage]);
        (await app.WithDbAsync(db => db.Set<OutboxMail>().SingleAsync(m => m.ToAddress == requester.User.Email))).Body
            .ShouldContain("As you asked, the job was published: it is on the job board now.");
    }

    [Fact]
    public async Task AnAutomaticPublishThatCannotHappenLeavesTheJobFundedAndSaysWhatToDo()
    {
        var requester = await app.RequesterAsync();
        var job = await DraftAsync(requester, prompts: false);
        await requester.Client.SubmitToAsync($"/Jobs/Edit?id={job.Id}", $"/Escrow/Pay?handler=AutoPublish&jobId={job.Id}",
            new Dictionary<string, string> { ["on"] = "true" });

        await app.WithDbAsync(db => JobsTestData.FundAsync(db, job.Id));
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<FundedJobs>().AfterFundingAsync(job.Id, default);
        }

        (await app.WithDbAsync(db => db.Jobs.SingleAsync(j => j.Id == job.Id))).Status.ShouldBe(JobStatus.Draft);
        (await app.WithDbAsync(db => db.Set<EscrowNotice>().Where(n => n.JobId == job.Id).Select(n => n.Message).ToListAsync()))
            .ShouldBe([FundedJobs.NotPublishedMessage]);
        var (_, refused) = await requester.Client.SubmitToAsync($"/Jobs/Edit?id={job.Id}", $"/Jobs/Edit?handler=PublishFunded&id={job.Id}", new Dictionary<string, string>());
        refused.ShouldContain("Add at least one prompt before publishing.");
    }

    [Fact]
    public async Task ARequesterBackFromStripeBeforeItsConfirmationIsToldItIsOnItsWay()
    {
        var requester = await app.RequesterAsync();
        var job = await DraftAsync(requester);

        (await PageAsync(requester, job.Id, "&funding=card-paid")).ShouldContain("Stripe is confirming your card payment");
        (await PageAsync(requester, job.Id, "&funding=card-cancelled")).ShouldContain("The card payment was cancelled; nothing was charged.");
        (await PageAsync(requester, job.Id, "&funding=anything-else")).ShouldNotContain("card-returned");
    }

    [Fact]
    public async Task AnotherOrganisationCannotStartAPaymentForAJobOrChangeItsChoices()
    {
        var owner = await app.RequesterAsync();
        var stranger = await app.RequesterAsync();
        var job = await DraftAsync(owner);
        var token = await stranger.Client.AntiforgeryTokenAsync("/Jobs/Edit");
        var checkouts = app.Stripe.Checkouts.Count;

        (await stranger.Client.PostFormAsync($"/Escrow/Pay?handler=Card&jobId={job.Id}", token)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await stranger.Client.PostFormAsync($"/Escrow/Pay?handler=AutoPublish&jobId={job.Id}", token, ("on", "true"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await stranger.Client.PostFormAsync($"/Jobs/Edit?handler=PublishFunded&id={job.Id}", token)).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        app.Stripe.Checkouts.Count.ShouldBe(checkouts);
        (await app.WithDbAsync(db => db.Set<JobFundingSettings>().AnyAsync(s => s.JobId == job.Id && s.AutoPublish))).ShouldBeFalse();
    }

    [Fact]
    public async Task ABankTransferRecordedByReferenceThatCoversTheBudgetTellsTheRequesterAndTheAdmin()
    {
        var requester = await app.RequesterAsync();
        var job = await DraftAsync(requester);
        await PageAsync(requester, job.Id);
        var reference = await app.WithDbAsync(db => db.Set<JobFundingSettings>().Where(s => s.JobId == job.Id).Select(s => s.PaymentReference!).SingleAsync());
        var admin = await app.CreateUserAsync(Crowd.Server.Features.Accounts.Roles.Admin);
        using var adminClient = await app.SignedInClientAsync(admin.Email!);

        var (_, recorded) = await adminClient.SubmitToAsync("/Escrow/Fund", "/Escrow/Fund", new Dictionary<string, string>
        {
            ["PaymentReference"] = reference, ["Amount"] = "1320.00", ["Currency"] = "CNY", ["BankReference"] = "BOB-" + Guid.NewGuid().ToString("N")[..8],
        });

        recorded.ShouldContain($"Recorded for \"{job.Title}\". Its escrow now holds 1,320.00 CNY, which covers the budget; the requester has been told.");
        recorded.ShouldNotContain($"data-testid=\"waiting-{reference}\"");
        (await app.WithDbAsync(db => db.Set<OutboxMail>().CountAsync(m => m.ToAddress == requester.User.Email))).ShouldBe(1);
        (await PageAsync(requester, job.Id)).ShouldContain("The escrow holds 1,320.00 CNY, which covers the budget.");
    }
}
