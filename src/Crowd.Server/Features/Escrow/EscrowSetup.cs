namespace Crowd.Server.Features.Escrow;

public static class EscrowSetup
{
    public static WebApplicationBuilder AddEscrow(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddScoped<EscrowService>();
        services.AddScoped<StripeRefunds>();
        services.AddScoped<BankTransfers>();
        services.AddScoped<CardCheckout>();
        services.AddScoped<FundedJobs>();
        services.AddScoped<FundingPanels>();
        return builder;
    }
}
