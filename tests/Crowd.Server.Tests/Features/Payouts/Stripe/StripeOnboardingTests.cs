using System.Net;
using Crowd.Server.Features.Accounts;
using Crowd.Server.Features.Payouts;
using Crowd.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Crowd.Server.Tests.Features.Payouts.Stripe;

/// <summary>The server in Stripe mode against the local fake Stripe: a contributor onboards an Express account from the earnings page.</summary>
public sealed class StripeOnboardingTests
{
    [Fact]
    public async Task AContributorIsSentToStripeOnboardingAndIsPayableOnceStripeSaysSo()
    {
        await using var stripe = await FakeStripe.StartAsync();
        await using var app = new StripeModeApp(stripe.BaseAddress);
        await app.InitializeAsync();
        var contributor = await app.CreateUserAsync(Roles.Contributor);
        using var client = await app.SignedInClientAsync(contributor.Email!);

        var (status, _) = await client.SubmitToAsync("/Earnings", "/Earnings?handler=Stripe", new Dictionary<string, string>());

        status.ShouldBe(HttpStatusCode.Redirect);
        var account = await app.WithDbAsync(db => db.Set<PayoutAccount>().AsNoTracking().SingleAsync(a => a.ContributorId == contributor.Id));
        (account.Provider, account.Onboarded).ShouldBe((PayoutProvider.Stripe, false));
        account.StripeAccountId.ShouldStartWith("acct_");
        var create = stripe.Requests.Single(r => r.Path == "/v1/accounts");
        create.Form["type"].ShouldBe("express");
        create.Form["email"].ShouldBe(contributor.Email);
        stripe.Requests.Single(r => r.Path == "/v1/account_links").Form["return_url"].ShouldEndWith("/Earnings?stripe=return");

        var before = WebUtility.HtmlDecode(await client.GetPageAsync("/Earnings?stripe=return", "en"));
        before.ShouldContain("Add a payout method");
        stripe.AccountStates[account.StripeAccountId!] = "enabled";
        var after = WebUtility.HtmlDecode(await client.GetPageAsync("/Earnings?stripe=return", "en"));
        after.ShouldContain("Payouts go to your Stripe account.");

        await client.SubmitToAsync("/Earnings", "/Earnings?handler=Stripe", new Dictionary<string, string>());
        stripe.Requests.Count(r => r.Path == "/v1/accounts").ShouldBe(1, "one Express account per contributor");
    }

    private sealed class StripeModeApp(Uri stripeBase) : CrowdApp
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Crowd:Payouts:Mode", "Stripe");
            builder.UseSetting("Crowd:Stripe:SecretKey", "sk_test_crowd");
            builder.UseSetting("Crowd:Stripe:ApiBase", stripeBase.ToString());
        }
    }
}
